/* GET /metrics on the metrics address. */
#include "server.h"

#include "prom_text.h"
#include "router.h"

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
    /* First call: headers only. Answering now means a body, if any, is
     * never read (libmicrohttpd closes the connection after). */
    if (*upload_data_size)
        return MHD_NO;
    (void)con_cls;
    route r = route_metrics(method, url);
    if (r.kind == ROUTE_NOT_FOUND)
        return server_reply_error(s, connection, 404, "ResourceNotFoundException",
                                  "Requested resource is not found, please refer to API document.",
                                  NULL, 0);
    if (r.kind == ROUTE_METHOD_NOT_ALLOWED)
        return server_reply_error(s, connection, 405, "MethodNotAllowedException",
                                  "Requested method is not allowed, please refer to API document.",
                                  r.allow, 0);
    /* References on every entry: none is freed while its stats are read. */
    served_model *held[SERVE_MAX_MODELS];
    int count = served_models_snapshot(&s->models, held, SERVE_MAX_MODELS);
    metrics_model ms[SERVE_MAX_MODELS];
    int n = 0;
    for (int i = 0; i < count; i++) {
        const served_model *m = held[i];
        memset(&ms[n], 0, sizeof ms[n]);
        ms[n].name = m->name;
        ms[n].version = m->version;
        ms[n].stats.struct_size = sizeof ms[n].stats;
        ms[n].max_batch_seen = atomic_load(&m->max_batch_seen);
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

    served_record recs[SERVE_MAX_RECORDS];
    int nrec = served_models_records(&s->models, recs, SERVE_MAX_RECORDS);
    metrics_lifecycle lc[SERVE_MAX_RECORDS];
    for (int i = 0; i < nrec; i++)
        lc[i] = (metrics_lifecycle){recs[i].name ? recs[i].name : "",
                                    recs[i].loaded ? recs[i].version : NULL, recs[i].loads,
                                    recs[i].unloads};
    size_t lc_len = 0;
    char *lc_text = metrics_render_lifecycle(lc, nrec, &lc_len);
    served_records_free(recs, nrec);
    char *all = text && lc_text ? realloc(text, len + lc_len + 1) : NULL;
    if (all) {
        memcpy(all + len, lc_text, lc_len + 1);
        len += lc_len;
    } else {
        free(text);
    }
    free(lc_text);
    return server_reply(s, connection, 200, PROM_CONTENT_TYPE, all, len, NULL, 0);
}
