/* The state folder's journal: which inputs are committed in which
 * finalized part, so that a restart after a crash takes every input
 * exactly once.
 *
 * An input is named by a key: its path (bytes outside '!'..'~' and '%'
 * written as %XX), inode, size and modification time in nanoseconds. A file
 * replaced or rewritten under the same path gets a new key, so it is a new
 * input.
 *
 * STATE/journal is a text file of lines "CRC PAYLOAD", CRC being zlib's
 * crc32 of PAYLOAD in 8 hex digits:
 *   H imgclass-watch-journal 1   first line
 *   I KEY                        an input of the part the next C line names
 *   C RELPATH                    commit: the I lines before it (since the
 *                                previous C or S) are in this part, a path
 *                                below the output folder
 *   S KEY                        compacted: an input committed earlier
 * A part is committed when its C line is on disk (fsync); only then is its
 * in-progress file renamed to RELPATH. Reading stops at the first line that
 * is torn or fails its CRC (a crash during an append). I lines without
 * their C are forgotten: those inputs were not committed and are processed
 * again. The file is cut after the last whole record (H, C or S line), so
 * later commits never adopt such orphan I lines.
 *
 * Compaction rewrites the journal as S lines (to journal.new, fsync, rename,
 * fsync of the folder), keeping only inputs whose file still exists with
 * the same key. It runs at start and when the journal has grown past
 * compact_bytes and twice its size after the last compaction. */
#ifndef IMGCLASS_WATCH_JOURNAL_H
#define IMGCLASS_WATCH_JOURNAL_H

#include "key_set.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* States in the key set. */
#define KEY_PENDING 0   /* taken this run, not yet in a finalized part */
#define KEY_COMMITTED 1 /* in a finalized part (journal) */

typedef struct journal journal;

/* The key of the file at `path` with status `st`; malloc'd, NULL when out
 * of memory. */
char *input_key(const char *path, const struct stat *st);
/* The path a key names (malloc'd), NULL when malformed or out of memory. */
char *input_key_path(const char *key);

/* Opens (creating) the state folder and its journal, locks it against a
 * second process, reads the committed keys into `committed` (state
 * KEY_COMMITTED) and the parts committed since the last compaction into
 * *parts / *nparts (malloc'd relative paths, for recovery to finalize).
 * Returns 0, or -1 with a message in err. */
int journal_open(const char *state_dir, key_set *committed, char ***parts, size_t *nparts,
                 journal **out, char *err, size_t errlen);

/* Commits n inputs into the part at `relpath`: appends and fsyncs. 0, or
 * -1 with errno set and the journal unchanged (the append is cut off). */
int journal_commit(journal *j, const char *relpath, char *const *keys, size_t n);

/* Compacts when `force` or the journal is over its size limits. Keys of
 * files that are gone or changed are dropped from the journal and from
 * `set`. 0, or -1 with errno (the old journal stays valid). */
int journal_compact(journal *j, key_set *set, int force);

void journal_set_compact_bytes(journal *j, uint64_t bytes);
uint64_t journal_size(const journal *j);
void journal_close(journal *j);

#endif
