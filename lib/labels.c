/* Label files: text (plain or ImageNet synset lines) and TorchServe JSON. */
#include "labels.h"

#include "error.h"
#include "gzip.h"

#include <ctype.h>
#include <errno.h>
#include <json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void ic_labels_free(ic_labels *labels)
{
    if (!labels)
        return;
    for (int i = 0; i < labels->count; i++) {
        free(labels->label[i]);
        free(labels->id[i]);
    }
    free(labels->label);
    free(labels->id);
    free(labels);
}

static ic_labels *labels_new(int count)
{
    ic_labels *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->label = calloc((size_t)count, sizeof *l->label);
    l->id = calloc((size_t)count, sizeof *l->id);
    if (!l->label || !l->id) {
        free(l->label);
        free(l->id);
        free(l);
        return NULL;
    }
    l->count = count;
    return l;
}

static char *copy_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* An ImageNet synset id: 'n' followed by exactly 8 digits. */
static int is_synset_id(const char *s, size_t n)
{
    if (n != 9 || s[0] != 'n')
        return 0;
    for (size_t i = 1; i < 9; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Fills entry i from one line (without its line ending): "n01440764 tench"
 * gives id + label; any other line is the label as it stands. */
static int set_from_line(ic_labels *l, int i, const char *line, size_t n)
{
    if (n > 10 && is_synset_id(line, 9) && line[9] == ' ') {
        l->id[i] = copy_n(line, 9);
        l->label[i] = copy_n(line + 10, n - 10);
        return l->id[i] && l->label[i];
    }
    l->label[i] = copy_n(line, n);
    return l->label[i] != NULL;
}

imgclass_status ic_labels_from_lines(const char *const *lines, int count, const char *source,
                                     ic_labels **out)
{
    ic_labels *l = labels_new(count);
    if (!l)
        return ic_error_oom(source, "labels");
    for (int i = 0; i < count; i++) {
        if (!set_from_line(l, i, lines[i], strlen(lines[i]))) {
            ic_labels_free(l);
            return ic_error_oom(source, "labels");
        }
    }
    *out = l;
    return IMGCLASS_OK;
}

static imgclass_status parse_text(const char *text, size_t size, const char *source,
                                  int expected, ic_labels **out)
{
    if (memchr(text, '\0', size))
        return ic_error(IMGCLASS_ERR_LABELS, "%s: invalid labels: NUL byte in a text file",
                        source);
    /* Trailing empty lines (the usual final newline, or a few more) are not
     * labels; an empty line between labels is one (an empty label), so the
     * indices of the lines after it stay right. */
    size_t end = size;
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r'))
        end--;
    if (end == 0)
        return ic_error(IMGCLASS_ERR_LABELS, "%s: invalid labels: no labels", source);
    size_t lines = 1;
    for (size_t i = 0; i < end; i++)
        if (text[i] == '\n')
            lines++;
    if (lines > INT_MAX)
        return ic_error(IMGCLASS_ERR_LABELS, "%s: invalid labels: too many lines", source);
    /* Refused before anything is allocated per line: a small gzip of
     * newlines must not become millions of labels first. */
    if (expected > 0 && lines > (size_t)expected)
        return ic_error(IMGCLASS_ERR_LABELS,
                        "%s: invalid labels: %zu labels but the model has %d classes", source,
                        lines, expected);
    ic_labels *l = labels_new((int)lines);
    if (!l)
        return ic_error_oom(source, "labels");
    size_t start = 0;
    for (int i = 0; i < l->count; i++) {
        const char *nl = memchr(text + start, '\n', end - start);
        size_t stop = nl ? (size_t)(nl - text) : end;
        size_t n = stop - start;
        if (n > 0 && text[start + n - 1] == '\r')
            n--;
        if (!set_from_line(l, i, text + start, n)) {
            ic_labels_free(l);
            return ic_error_oom(source, "labels");
        }
        start = stop + 1;
    }
    *out = l;
    return IMGCLASS_OK;
}

/* A JSON key that is a canonical decimal index ("0", "17"; not "01", "-1",
 * " 1"). */
static int parse_index(const char *key, long *index)
{
    if (!isdigit((unsigned char)key[0]) || (key[0] == '0' && key[1] != '\0'))
        return 0;
    errno = 0;
    char *end;
    long v = strtol(key, &end, 10);
    if (*end != '\0' || errno || v > INT_MAX)
        return 0;
    *index = v;
    return 1;
}

/* TorchServe's index_to_name.json: {"0": ["n01440764", "tench"], ...} or
 * {"0": "tench", ...}; the keys must be exactly 0..K-1. */
/* The number of members of the top-level JSON object (commas at depth 1,
 * outside strings, plus one), counted without building anything. With it
 * the parser is never run on more entries than the model has classes, and
 * a key given twice (which json-c resolves silently, the last one winning)
 * shows up as fewer distinct keys than members. Only meaningful for text
 * that then parses as JSON. */
static size_t count_members(const char *text, size_t size)
{
    size_t members = 0;
    int depth = 0, in_string = 0, escaped = 0, any = 0;
    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
            if (depth == 1)
                any = 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            members++;
        }
    }
    return any ? members + 1 : 0;
}

static imgclass_status parse_json(const char *text, size_t size, const char *source,
                                  int expected, ic_labels **out)
{
    if (size > INT_MAX)
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: JSON labels", source);
    size_t members = count_members(text, size);
    if (expected > 0 && members > (size_t)expected)
        return ic_error(IMGCLASS_ERR_LABELS,
                        "%s: invalid labels: %zu labels but the model has %d classes", source,
                        members, expected);
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return ic_error_oom(source, "JSON parser");
    json_object *root = json_tokener_parse_ex(tok, text, (int)size);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t consumed = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        return ic_error(IMGCLASS_ERR_LABELS, "%s: invalid labels: bad JSON: %s", source,
                        jerr == json_tokener_continue ? "unexpected end of data"
                                                      : json_tokener_error_desc(jerr));
    }
    for (size_t i = consumed; i < size; i++) {
        if (!isspace((unsigned char)text[i])) {
            json_object_put(root);
            return ic_error(IMGCLASS_ERR_LABELS, "%s: invalid labels: data after the JSON object",
                            source);
        }
    }
    if (!json_object_is_type(root, json_type_object)) {
        const char *type = json_type_to_name(json_object_get_type(root)); /* static */
        json_object_put(root);
        return ic_error(IMGCLASS_ERR_LABELS,
                        "%s: invalid labels: JSON labels must be an object {\"0\": ...}, not %s",
                        source, type ? type : "another type");
    }
    int count = json_object_object_length(root);
    if (count <= 0) {
        json_object_put(root);
        return ic_error(IMGCLASS_ERR_LABELS, "%s: invalid labels: no labels", source);
    }
    if (members != (size_t)count) {
        json_object_put(root);
        return ic_error(IMGCLASS_ERR_LABELS,
                        "%s: invalid labels: %zu members but %d distinct keys (a key appears "
                        "twice, or a trailing comma)",
                        source, members, count);
    }
    ic_labels *l = labels_new(count);
    if (!l) {
        json_object_put(root);
        return ic_error_oom(source, "labels");
    }
    imgclass_status st = IMGCLASS_OK;
    json_object_object_foreach(root, key, val)
    {
        long index;
        if (!parse_index(key, &index) || index >= count) {
            st = ic_error(IMGCLASS_ERR_LABELS,
                          "%s: invalid labels: key \"%s\" is not an index in 0..%d", source, key,
                          count - 1);
            break;
        }
        if (l->label[index]) {
            st = ic_error(IMGCLASS_ERR_LABELS, "%s: invalid labels: key \"%s\" appears twice",
                          source, key);
            break;
        }
        const char *id = NULL, *name = NULL;
        if (json_object_is_type(val, json_type_string)) {
            name = json_object_get_string(val);
        } else if (json_object_is_type(val, json_type_array) &&
                   json_object_array_length(val) == 2 &&
                   json_object_is_type(json_object_array_get_idx(val, 0), json_type_string) &&
                   json_object_is_type(json_object_array_get_idx(val, 1), json_type_string)) {
            id = json_object_get_string(json_object_array_get_idx(val, 0));
            name = json_object_get_string(json_object_array_get_idx(val, 1));
        } else {
            st = ic_error(IMGCLASS_ERR_LABELS,
                          "%s: invalid labels: value of key \"%s\" must be a string or "
                          "[id, label]",
                          source, key);
            break;
        }
        /* json-c keeps "\u0000" inside a string; C strings would cut the
         * label there without a word. */
        json_object *name_obj = id ? json_object_array_get_idx(val, 1) : val;
        if (strlen(name) != (size_t)json_object_get_string_len(name_obj) ||
            (id && strlen(id) !=
                       (size_t)json_object_get_string_len(json_object_array_get_idx(val, 0)))) {
            st = ic_error(IMGCLASS_ERR_LABELS,
                          "%s: invalid labels: value of key \"%s\" contains a NUL character "
                          "(\\u0000)",
                          source, key);
            break;
        }
        l->label[index] = strdup(name);
        if (id)
            l->id[index] = strdup(id);
        if (!l->label[index] || (id && !l->id[index])) {
            st = ic_error_oom(source, "labels");
            break;
        }
    }
    json_object_put(root);
    if (st != IMGCLASS_OK) {
        ic_labels_free(l);
        return st;
    }
    /* count distinct keys each in 0..count-1 means every index is present. */
    *out = l;
    return IMGCLASS_OK;
}

/* JSON when the first non-blank byte (after a UTF-8 BOM) is '{' (or '[',
 * so that an array is refused as JSON, not read as one text label). */
static int looks_like_json(const char *text, size_t size)
{
    size_t i = 0;
    if (size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < size && isspace((unsigned char)text[i]))
        i++;
    return i < size && (text[i] == '{' || text[i] == '[');
}

imgclass_status ic_labels_parse(const void *data, size_t size, const char *source,
                                ic_labels **out)
{
    return ic_labels_parse_expect(data, size, source, 0, out);
}

imgclass_status ic_labels_parse_expect(const void *data, size_t size, const char *source,
                                       int expected, ic_labels **out)
{
    if (!source)
        source = "memory buffer";
    if (!data || !out)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT, "%s: invalid argument: NULL labels data",
                        source);
    if (size > IC_LABELS_MAX_BYTES)
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: labels over %zu bytes", source,
                        IC_LABELS_MAX_BYTES);
    unsigned char *plain = NULL;
    if (ic_is_gzip(data, size)) {
        imgclass_status st = ic_gunzip(data, size, IC_LABELS_MAX_BYTES, IC_LABELS_MAX_RATIO, source,
                                       &plain, &size);
        if (st != IMGCLASS_OK)
            return st;
        data = plain;
    }
    const char *text = data;
    size_t skip = (size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
    imgclass_status st = looks_like_json(text, size)
                             ? parse_json(text + skip, size - skip, source, expected, out)
                             : parse_text(text + skip, size - skip, source, expected, out);
    free(plain);
    return st;
}
