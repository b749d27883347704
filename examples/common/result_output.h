/* One output record per input of `imgclass classify`, in one of three
 * formats (documented in imgclass(1) and `imgclass classify --help`):
 *  text: "PATH: LABEL (PROB)" for top-1; with k > 1 "PATH:" and then one
 *        line "  LABEL (PROB)" per class; a failed input "PATH: error: MSG".
 *        Without labels LABEL is "class N". PROB is %.6g.
 *  json: one JSON object per line:
 *        {"path": "...", "top": [{"index": 281, "label": "...",
 *        "probability": 0.409700006}, ...]}, "label" omitted without labels;
 *        a failed input {"path": "...", "error": "..."}. %.9g (round-trips
 *        float32); a non-finite score is null.
 *  tsv:  "PATH<TAB>INDEX<TAB>LABEL<TAB>PROB" for top-1 (%.9g, LABEL empty
 *        without labels); a failed input "PATH<TAB>-1<TAB>MESSAGE<TAB>nan".
 * Escaping as text_escape.h says.
 * The *_timed forms (imgclass-watch) add a time string: JSON gets a "time"
 * member after "path", TSV a first column; text is unchanged. NULL time
 * writes exactly the untimed record. */
#ifndef IMGCLASS_CLI_RESULT_OUTPUT_H
#define IMGCLASS_CLI_RESULT_OUTPUT_H

#include <imgclass.h>
#include <stdio.h>

typedef enum out_format { OUT_TEXT, OUT_JSON, OUT_TSV } out_format;

/* Each writer renders the whole record first and writes it with one
 * flush: 0 when it is out, -1 (errno set) when the write failed, in which
 * case nothing of it is left in a regular file (cut back to where it
 * began). A caller stops at the first failure and exits non-zero. */
int write_result(FILE *out, out_format format, const char *path, const imgclass_class *top,
                 int k);
int write_failure(FILE *out, out_format format, const char *path, const char *message);
int write_result_timed(FILE *out, out_format format, const char *path, const char *time,
                       const imgclass_class *top, int k);
int write_failure_timed(FILE *out, out_format format, const char *path, const char *time,
                        const char *message);

#endif
