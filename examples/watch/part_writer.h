/* Hive-style partitioned part files, rolled atomically and committed in the
 * journal.
 *
 * A record goes to the part of its partition, OUT/dt=YYYY-MM-DD/hour=HH/
 * (UTC, from the record's time). A part is written as the in-progress file
 * ".part-NAME.EXT.inprogress" in that folder (a dotfile: Spark, Dask,
 * DuckDB and Flink skip it) and rolled - fsync, journal commit, rename to
 * "part-NAME.EXT", fsync of the folder - when it holds roll_records
 * records or roll_bytes bytes, when roll_seconds have passed since its
 * first record, on request (SIGHUP) and at shutdown. NAME is the UTC time
 * the part was opened, a random run id and a sequence number. With gzip
 * the whole part is one gzip member (.EXT.gz).
 *
 * Every record of an open part is also kept in memory until the part is
 * committed, so a write that fails (full disk, unwritable folder) loses
 * nothing: the in-progress file is written again from memory when the roll
 * is retried. */
#ifndef IMGCLASS_WATCH_PART_WRITER_H
#define IMGCLASS_WATCH_PART_WRITER_H

#include "clock.h"
#include "journal.h"
#include "key_set.h"
#include "result_output.h"

#include <stddef.h>
#include <stdint.h>

typedef struct part_writer_options {
    const char *out_dir;
    out_format format;
    int gzip;
    int64_t roll_ns;     /* roll a part this long after its first record; 0: never */
    long roll_records;   /* roll at this many records; 0: never */
    size_t roll_bytes;   /* roll at this many bytes (uncompressed) */
} part_writer_options;

typedef struct part_writer part_writer;

/* The writer commits into `j` and marks committed keys in `keys`; both
 * must outlive it. NULL when out of memory. */
part_writer *part_writer_new(const part_writer_options *options, journal *j, key_set *keys);

/* Adds one formatted record (len bytes, ending with '\n') of the input
 * `key` at time_ns (nanoseconds since the epoch, UTC) to its partition's
 * part. found_ns is the monotonic instant its input was found (for
 * part_writer_oldest_found()). 0, or -1 when out of memory. */
int part_writer_add(part_writer *w, int64_t time_ns, const char *record, size_t len,
                    const char *key, int failed, int64_t found_ns);

/* Rolls the parts that are due at monotonic instant now_ns, or every open
 * part when `all`. 0 when every roll it tried succeeded; -1 when one failed
 * (the reason was logged; the part stays open, whole, and is tried again
 * at the next call). */
int part_writer_roll(part_writer *w, int64_t now_ns, int all);

/* The monotonic instant of the next roll by time, or -1 if none. */
int64_t part_writer_next_deadline(const part_writer *w);
/* Open parts, and records in them. */
size_t part_writer_open_parts(const part_writer *w);
long part_writer_pending_records(const part_writer *w);
/* The earliest found_ns of the records in open parts, or -1 if none. */
int64_t part_writer_oldest_found(const part_writer *w);
/* Totals since start: parts rolled, records committed. */
long part_writer_rolled_parts(const part_writer *w);
long part_writer_committed_records(const part_writer *w);

/* Frees the writer. Open parts are dropped (their in-progress files
 * stay; the next start discards them): roll first to keep them. */
void part_writer_free(part_writer *w);

/* Crash recovery, before anything is written: renames the in-progress
 * file of each committed part (relative paths from journal_open()) whose
 * final file is missing, then deletes every other in-progress file under
 * dt=* / hour=* of out_dir (their inputs were never committed and are taken
 * again). Logs what it did on stderr. 0, or -1 when a file could not be
 * renamed or deleted (logged). */
int part_writer_recover(const char *out_dir, char *const *parts, size_t nparts);


#endif
