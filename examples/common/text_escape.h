/* Escaping of paths and labels for the CLI's output formats.
 *
 * JSON (RFC 8259): '"' and '\\' are escaped, control characters become
 * \b \f \n \r \t or \u00XX, valid UTF-8 passes through unchanged, and each
 * byte that is not part of valid UTF-8 (including overlong forms, encoded
 * surrogates and code points above U+10FFFF) becomes the lone surrogate
 * \udcXX, where XX is the byte: Python's "surrogateescape", so that
 * os.fsencode(json.loads(line)["path"]) gives back the exact bytes.
 *
 * Text and TSV: backslash, tab, newline and carriage return become \\ \t \n
 * \r; every other byte is written as it is. */
#ifndef IMGCLASS_CLI_TEXT_ESCAPE_H
#define IMGCLASS_CLI_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Writes s as a JSON string, quotes included. */
void json_write_string(FILE *out, const char *s);
/* Writes s with the text/TSV backslash escapes. */
void tsv_write_escaped(FILE *out, const char *s);
/* Length of the valid UTF-8 sequence at s (1-4), or 0 if the bytes there
 * do not start one. n is the number of bytes available. */
size_t utf8_sequence_length(const unsigned char *s, size_t n);

#endif
