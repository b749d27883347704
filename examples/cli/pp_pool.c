/* Preprocessing thread pool; see pp_pool.h. */
#include "pp_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pp_pool {
    imgclass_decode_options decode;
    imgclass_preprocess_options preprocess;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    pp_job **queue; /* ring of pending jobs */
    size_t cap, head, count;
    size_t pending; /* submitted and not finished */
    int stop;
    int nthreads;
    pthread_t *threads;
};

static void run_job(const pp_pool *pool, pp_job *job)
{
    job->status = imgclass_preprocess_file(job->path, &pool->decode, &pool->preprocess, job->batch,
                                           job->slot);
    /* The message is thread-local: copy it here, in the thread that failed. */
    job->error = job->status == IMGCLASS_OK ? NULL : strdup(imgclass_last_error());
}

static void *worker(void *arg)
{
    pp_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->count == 0 && !pool->stop)
            pthread_cond_wait(&pool->work, &pool->lock);
        if (pool->count == 0 && pool->stop)
            break;
        pp_job *job = pool->queue[pool->head];
        pool->head = (pool->head + 1) % pool->cap;
        pool->count--;
        pthread_mutex_unlock(&pool->lock);
        run_job(pool, job);
        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0)
            pthread_cond_broadcast(&pool->done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

pp_pool *pp_pool_new(int threads, const imgclass_decode_options *decode,
                     const imgclass_preprocess_options *preprocess)
{
    pp_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return NULL;
    pool->decode = *decode;
    pool->preprocess = *preprocess;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->done, NULL);
    if (threads > 0) {
        pool->threads = calloc((size_t)threads, sizeof *pool->threads);
        if (!pool->threads) {
            pp_pool_free(pool);
            return NULL;
        }
        for (int i = 0; i < threads; i++) {
            if (pthread_create(&pool->threads[i], NULL, worker, pool)) {
                pp_pool_free(pool);
                return NULL;
            }
            pool->nthreads++;
        }
    }
    return pool;
}

void pp_pool_submit(pp_pool *pool, pp_job *job)
{
    if (pool->nthreads == 0) {
        run_job(pool, job);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    if (pool->count == pool->cap) {
        size_t cap = pool->cap ? pool->cap * 2 : 64;
        pp_job **q = malloc(cap * sizeof *q);
        if (!q) {
            /* No room to queue it: run it here rather than lose it. */
            pthread_mutex_unlock(&pool->lock);
            run_job(pool, job);
            return;
        }
        for (size_t i = 0; i < pool->count; i++)
            q[i] = pool->queue[(pool->head + i) % pool->cap];
        free(pool->queue);
        pool->queue = q;
        pool->cap = cap;
        pool->head = 0;
    }
    pool->queue[(pool->head + pool->count) % pool->cap] = job;
    pool->count++;
    pool->pending++;
    pthread_cond_signal(&pool->work);
    pthread_mutex_unlock(&pool->lock);
}

void pp_pool_wait(pp_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    while (pool->pending > 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}

void pp_pool_free(pp_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    free(pool->threads);
    free(pool->queue);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->done);
    free(pool);
}
