/* Internal: a thread lowering its own scheduling priority. */
#ifndef IMGCLASS_THREAD_PRIORITY_H
#define IMGCLASS_THREAD_PRIORITY_H

/* Raises the calling thread's nice value to `nice` (1..19; <= 0 does
 * nothing), leaving the process's other threads as they are. Where the
 * system cannot (not Linux), or the thread is already nicer, nothing
 * changes. Never fails: a lost priority change only costs speed. */
void ic_thread_lower_priority(int nice);

#endif
