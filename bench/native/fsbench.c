/*
 * fsbench: the fuse benchmark's client, a program that is not Node (so the figures are the
 * filesystem's, not a JS runtime's). It prepares files in a directory, then times one operation in
 * batches from 1 or more threads and prints one line per batch and a total:
 *
 *   fsbench prepare DIR
 *   fsbench run OP DIR THREADS MS      OP: stat pread-4k pwrite-4k create-write-4k-close
 *                                          read-1m-seq write-1m-seq
 *   output: "s <ns per op>" per batch (every thread's), then "t <ops> <wall ns>"
 *   fsbench count OP DIR THREADS N     N operations per thread, untimed, as run does them (the
 *                                      suite counts the FUSE requests they send)
 *
 * FSBENCH_DIRECT=1 opens the data files with O_DIRECT (where the filesystem allows it), so that on a
 * FUSE mount every read and write reaches the server instead of the kernel's page cache.
 *
 * Written for this project.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KiB 1024
#define MiB (1024 * 1024)
#define SMALL (1 * MiB)
#define BIG (16 * MiB)
#define MAX_SAMPLES 200000

static const char *dir;
static const char *op;
static long run_ms;
static long count_n; /* count: operations per thread; 0 for run */
static volatile int stop;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what, const char *path) {
  fprintf(stderr, "fsbench: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static void path(char *out, const char *name) { snprintf(out, 4096, "%s/%s", dir, name); }

static void fill(const char *name, size_t size) {
  char p[4096];
  path(p, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("open", p);
  char *buf = malloc(MiB);
  memset(buf, 0xa5, MiB);
  for (size_t at = 0; at < size; at += MiB)
    if (pwrite(fd, buf, MiB, at) != MiB) die("pwrite", p);
  free(buf);
  close(fd);
}

static void prepare(void) {
  char p[4096];
  const char *dirs[] = {"st", "st/a", "cw"};
  for (int i = 0; i < 3; i++) {
    path(p, dirs[i]);
    if (mkdir(p, 0755) != 0 && errno != EEXIST) die("mkdir", p);
  }
  fill("st/a/f", 100);
  fill("pread", SMALL);
  fill("pwrite", SMALL);
  fill("seq-r", BIG);
  fill("seq-w", BIG);
}

struct worker {
  int id;
  long long *samples;
  long n;
  long long ops;
};

/* Page offsets of the 1 MiB file in a scattered order (no readahead luck). */
static off_t page_at(long k) { return (off_t)((k * 97) % 256) * 4096; }

static int one_batch(struct worker *w, int fd, char *buf, long *k, int batch) {
  char p[4096];
  for (int i = 0; i < batch; i++, (*k)++) {
    if (strcmp(op, "stat") == 0) {
      struct stat st;
      path(p, "st/a/f");
      if (stat(p, &st) != 0) die("stat", p);
    } else if (strcmp(op, "pread-4k") == 0) {
      if (pread(fd, buf, 4096, page_at(*k)) != 4096) die("pread", "pread");
    } else if (strcmp(op, "pwrite-4k") == 0) {
      if (pwrite(fd, buf, 4096, page_at(*k)) != 4096) die("pwrite", "pwrite");
    } else if (strcmp(op, "create-write-4k-close") == 0) {
      char name[64];
      snprintf(name, sizeof name, "cw/t%d-f%ld", w->id, *k % 64);
      path(p, name);
      int f = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (f < 0) die("open", p);
      if (write(f, buf, 4096) != 4096) die("write", p);
      close(f);
    } else if (strcmp(op, "read-1m-seq") == 0) {
      if (pread(fd, buf, MiB, (off_t)((*k + w->id * 8) % (BIG / MiB)) * MiB) != MiB) die("pread", "seq-r");
    } else if (strcmp(op, "write-1m-seq") == 0) {
      if (pwrite(fd, buf, MiB, (off_t)((*k + w->id * 8) % (BIG / MiB)) * MiB) != MiB) die("pwrite", "seq-w");
    } else {
      fprintf(stderr, "fsbench: unknown op %s\n", op);
      exit(2);
    }
  }
  return batch;
}

static void *work(void *arg) {
  struct worker *w = arg;
  char p[4096];
  int fd = -1;
  const char *file = strcmp(op, "pread-4k") == 0     ? "pread"
                     : strcmp(op, "pwrite-4k") == 0  ? "pwrite"
                     : strcmp(op, "read-1m-seq") == 0 ? "seq-r"
                     : strcmp(op, "write-1m-seq") == 0 ? "seq-w"
                                                       : NULL;
  if (file) {
    path(p, file);
    int flags = strncmp(op, "read", 4) == 0 || strcmp(op, "pread-4k") == 0 ? O_RDONLY : O_RDWR;
    const char *direct = getenv("FSBENCH_DIRECT");
    fd = direct && *direct == '1' ? open(p, flags | O_DIRECT) : -1;
    if (fd < 0) fd = open(p, flags);
    if (fd < 0) die("open", p);
  }
  char *buf = aligned_alloc(4096, MiB);
  memset(buf, 0x5a, MiB);
  int batch = strstr(op, "1m") ? 2 : 32;
  long k = 0;
  if (count_n > 0) {
    one_batch(w, fd, buf, &k, (int)count_n);
    w->ops = count_n;
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
  }
  /* Warm up for a fifth of the run, untimed. */
  long long warm_end = now_ns() + run_ms * 200000LL;
  while (now_ns() < warm_end) one_batch(w, fd, buf, &k, batch);
  /* At least one timed batch per thread, however slow the filesystem. */
  do {
    long long t0 = now_ns();
    one_batch(w, fd, buf, &k, batch);
    long long dt = now_ns() - t0;
    if (w->n < MAX_SAMPLES) w->samples[w->n++] = dt / batch;
    w->ops += batch;
  } while (!stop);
  if (fd >= 0) close(fd);
  free(buf);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "prepare") == 0) {
    dir = argv[2];
    prepare();
    return 0;
  }
  int counting = argc == 6 && strcmp(argv[1], "count") == 0;
  if (argc != 6 || (!counting && strcmp(argv[1], "run") != 0)) {
    fprintf(stderr, "usage: fsbench prepare DIR | fsbench run OP DIR THREADS MS | fsbench count OP DIR THREADS N\n");
    return 2;
  }
  op = argv[2];
  dir = argv[3];
  int threads = atoi(argv[4]);
  if (counting)
    count_n = atol(argv[5]);
  else
    run_ms = atol(argv[5]);
  if (threads < 1 || threads > 64 || (counting ? count_n < 1 || count_n > 1000000 : run_ms < 1)) return 2;
  struct worker w[64];
  pthread_t t[64];
  for (int i = 0; i < threads; i++) {
    w[i] = (struct worker){.id = i, .samples = malloc(sizeof(long long) * MAX_SAMPLES)};
    pthread_create(&t[i], NULL, work, &w[i]);
  }
  if (counting) {
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    printf("t %lld 0\n", (long long)count_n * threads);
    return 0;
  }
  /* The timed part starts after the warm-up: sleep through both. */
  long long t0 = now_ns() + run_ms * 200000LL;
  usleep((useconds_t)(run_ms * 1200));
  stop = 1;
  long long ops = 0;
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  long long wall = now_ns() - t0;
  for (int i = 0; i < threads; i++) {
    for (long j = 0; j < w[i].n; j++) printf("s %lld\n", w[i].samples[j]);
    ops += w[i].ops;
  }
  printf("t %lld %lld\n", ops, wall);
  return 0;
}
