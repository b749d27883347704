/* The two system-call loops that imgclass-watch's durability rests on,
 * shared by the journal (journal.c) and the part files (part_writer.c):
 * a write that survives short writes and EINTR, and the fsync of a folder
 * that makes a file created or renamed in it survive a power loss. */
#ifndef IMGCLASS_WATCH_DURABLE_IO_H
#define IMGCLASS_WATCH_DURABLE_IO_H

#include <stddef.h>

/* Writes all n bytes to fd, retrying short writes and EINTR. 0, or -1
 * with errno set. */
int write_all(int fd, const char *buf, size_t n);

/* fsync()s the folder `dir`. 0, or -1 with errno set (close() does not
 * clobber it). */
int fsync_dir(const char *dir);

#endif
