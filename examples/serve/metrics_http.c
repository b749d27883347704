/* GET /metrics on the metrics address. */
#include "server.h"

#include "json_buf.h"
#include "prom_text.h"
#include "router.h"

#include "mhd_first_call.h"

#include <stdlib.h>
#include <string.h>

enum MHD_Result http_metrics_handler(void *cls, struct MHD_Connection *connection,
                                     const char *url, const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls)
{
    server *s = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size; /* a body is never read (mhd_first_call.h) */
    if (mhd_answer_next_call(connection, con_cls))
        return MHD_YES;
    route r = route_metrics(method, url);
    if (r.kind == ROUTE_NOT_FOUND)
        return server_reply_error(s, connection, 404, "ResourceNotFoundException",
                                  "Requested resource is not found, please refer to API document.",
                                  NULL, 0);
    if (r.kind == ROUTE_METHOD_NOT_ALLOWED)
        return server_reply_error(s, connection, 405, "MethodNotAllowedException",
                                  "Requested method is not allowed, please refer to API document.",
                                  r.allow, 0);
    /* No model until they are all loaded (server.h's `ready`): the table
     * and its lock are being set up. Then a reference on every entry, so
     * that none is freed while its stats are read. */
    int ready = atomic_load(&s->ready);
    served_model *held[SERVE_MAX_MODELS];
    int count = ready ? served_models_snapshot(&s->models, held, SERVE_MAX_MODELS) : 0;
    metrics_model ms[SERVE_MAX_MODELS];
    int n = 0;
    for (int i = 0; i < count; i++) {
        const served_model *m = held[i];
        memset(&ms[n], 0, sizeof ms[n]);
        ms[n].name = m->name;
        ms[n].version = m->version;
        ms[n].stats.struct_size = sizeof ms[n].stats;
        ms[n].max_batch_seen = atomic_load(&m->max_batch_seen);
        ms[n].v2_requests = atomic_load(&m->v2_requests);
        ms[n].v2_tensor_images = atomic_load(&m->v2_tensor_images);
        ms[n].v2_tensor_us = (double)atomic_load(&m->v2_tensor_us);
        if (m->pipeline && imgclass_pipeline_stats_get(m->pipeline, &ms[n].stats) == IMGCLASS_OK)
            n++;
    }
    metrics_http http;
    for (int i = 0; i < METRICS_HTTP_CODES; i++)
        http.responses[i] = atomic_load(&s->responses[i]);
    size_t len = 0;
    char *text = metrics_render(ms, n, &http, &len);
    for (int i = 0; i < count; i++)
        served_model_release(&s->models, held[i]);

    /* The model lifecycle, then the abuse limits' counters (conn_limits.h). */
    served_record recs[SERVE_MAX_RECORDS];
    int nrec = ready ? served_models_records(&s->models, recs, SERVE_MAX_RECORDS) : 0;
    metrics_lifecycle lc[SERVE_MAX_RECORDS];
    for (int i = 0; i < nrec; i++)
        lc[i] = (metrics_lifecycle){recs[i].name ? recs[i].name : "",
                                    recs[i].loaded ? recs[i].version : NULL, recs[i].loads,
                                    recs[i].unloads};
    size_t lc_len = 0;
    char *lc_text = metrics_render_lifecycle(lc, nrec, &lc_len);
    served_records_free(recs, nrec);
    json_buf b;
    if (text && lc_text && !json_buf_open(&b)) {
        fwrite(text, 1, len, b.f);
        fwrite(lc_text, 1, lc_len, b.f);
        conn_limits *limits[2] = {&s->api_limits, &s->mgmt_limits};
        conn_limits_prom(b.f, limits, s->mgmt_limits_on ? 2 : 1);
        free(text);
        text = json_buf_finish(&b, &len);
    } else {
        free(text);
        text = NULL;
    }
    free(lc_text);
    return server_reply(s, connection, 200, PROM_CONTENT_TYPE, text, len, NULL, 0);
}
