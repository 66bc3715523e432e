/*
 * libfuse-ll: the fuse and workload benchmarks' floor. A small in-memory filesystem on libfuse3's
 * low-level API, multi-threaded loop, one global mutex: what any FUSE server on this machine costs
 * at least. It serves what the micro cases and the real workloads (tar, find, cat, rm -rf, sqlite)
 * ask: lookup, forget, getattr, setattr, mknod, mkdir, symlink, readlink, unlink, rmdir, rename,
 * create, open, read, write, flush, release, fsync, opendir, readdir, readdirplus, releasedir,
 * fsyncdir, statfs. Names are found through a hash table, a directory's entries are a list, and an
 * inode lives until it is unlinked and forgotten by the kernel. No hard links, xattrs or locks (the
 * kernel keeps POSIX locks itself when the server has none).
 *
 *   libfuse-ll MOUNTPOINT [--attr-timeout S] [--direct-io] [--default-permissions]
 *
 * Runs in the foreground until unmounted (or SIGINT/SIGTERM). Written for this project.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN 255
#define HASH_BITS 18
#define ROOT 1

struct node {
  int used;
  uint64_t generation;
  uint64_t nlookup;  /* the kernel's references (entries replied minus forgets) */
  fuse_ino_t parent; /* 0 once unlinked */
  char *name;
  fuse_ino_t hnext;                      /* next in the name hash chain */
  fuse_ino_t first, next, prev;          /* a directory's entries; siblings */
  struct stat st;
  char *data; /* file bytes, or a link's target (NUL-terminated) */
  size_t cap;
};

static struct node *nodes;
static size_t nnodes = 1;   /* nodes[1 .. nnodes) exist; 0 is never used (ino 0 means none) */
static size_t cap_nodes;
static fuse_ino_t free_ino; /* a list through .next */
static size_t live;
static fuse_ino_t buckets[1 << HASH_BITS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double attr_timeout = 0.0;
static int direct_io = 0;

static void now(struct timespec *t) { clock_gettime(CLOCK_REALTIME, t); }

static size_t hash(fuse_ino_t parent, const char *name) {
  uint64_t h = 1469598103934665603ULL ^ parent;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 1099511628211ULL;
  return (size_t)(h ^ (h >> 29)) & ((1 << HASH_BITS) - 1);
}

static fuse_ino_t find(fuse_ino_t parent, const char *name) {
  for (fuse_ino_t i = buckets[hash(parent, name)]; i; i = nodes[i].hnext)
    if (nodes[i].parent == parent && strcmp(nodes[i].name, name) == 0) return i;
  return 0;
}

/* Puts node i under parent with name (which it takes): hash chain and the parent's entry list. */
static void attach(fuse_ino_t i, fuse_ino_t parent, char *name) {
  struct node *n = &nodes[i];
  n->parent = parent;
  n->name = name;
  size_t h = hash(parent, name);
  n->hnext = buckets[h];
  buckets[h] = i;
  n->prev = 0;
  n->next = nodes[parent].first;
  if (n->next) nodes[n->next].prev = i;
  nodes[parent].first = i;
}

static void detach(fuse_ino_t i) {
  struct node *n = &nodes[i];
  fuse_ino_t *p = &buckets[hash(n->parent, n->name)];
  while (*p != i) p = &nodes[*p].hnext;
  *p = n->hnext;
  if (n->prev) nodes[n->prev].next = n->next;
  else nodes[n->parent].first = n->next;
  if (n->next) nodes[n->next].prev = n->prev;
  free(n->name);
  n->name = NULL;
  n->parent = 0;
}

static void release_node(fuse_ino_t i) {
  struct node *n = &nodes[i];
  free(n->data);
  n->data = NULL;
  n->used = 0;
  n->next = free_ino;
  free_ino = i;
  live--;
}

/* An unlinked node is freed once the kernel has forgotten it too. */
static void maybe_release(fuse_ino_t i) {
  if (i != ROOT && nodes[i].parent == 0 && nodes[i].nlookup == 0) release_node(i);
}

static fuse_ino_t alloc_node(mode_t mode, const struct fuse_ctx *ctx) {
  fuse_ino_t i = free_ino;
  if (i) free_ino = nodes[i].next;
  else {
    if (nnodes >= cap_nodes) {
      size_t cap = cap_nodes ? cap_nodes * 2 : 1024;
      struct node *grown = realloc(nodes, cap * sizeof *nodes);
      if (!grown) return 0;
      memset(grown + cap_nodes, 0, (cap - cap_nodes) * sizeof *nodes);
      nodes = grown;
      cap_nodes = cap;
    }
    i = nnodes++;
  }
  struct node *n = &nodes[i];
  uint64_t gen = n->generation + 1;
  memset(n, 0, sizeof *n);
  n->used = 1;
  n->generation = gen;
  n->st.st_ino = i;
  n->st.st_mode = mode;
  n->st.st_nlink = S_ISDIR(mode) ? 2 : 1;
  n->st.st_uid = ctx ? ctx->uid : getuid();
  n->st.st_gid = ctx ? ctx->gid : getgid();
  n->st.st_blksize = 4096;
  now(&n->st.st_atim);
  n->st.st_mtim = n->st.st_ctim = n->st.st_atim;
  live++;
  return i;
}

static void set_size(struct node *n, off_t size) {
  n->st.st_size = size;
  n->st.st_blocks = (size + 511) / 512;
}

/* Fills an entry for node i and counts the kernel's new reference to it. Under the lock. */
static void entry_of(fuse_ino_t i, struct fuse_entry_param *e) {
  memset(e, 0, sizeof *e);
  e->ino = i;
  e->generation = nodes[i].generation;
  e->attr = nodes[i].st;
  e->attr_timeout = attr_timeout;
  e->entry_timeout = 1.0;
  nodes[i].nlookup++;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fuse_entry_param e;
  pthread_mutex_lock(&lock);
  fuse_ino_t i = find(parent, name);
  if (i) entry_of(i, &e);
  pthread_mutex_unlock(&lock);
  if (i) fuse_reply_entry(req, &e);
  else fuse_reply_err(req, ENOENT);
}

static void forget_one(fuse_ino_t ino, uint64_t n) {
  if (ino >= nnodes || !nodes[ino].used) return;
  nodes[ino].nlookup = nodes[ino].nlookup > n ? nodes[ino].nlookup - n : 0;
  maybe_release(ino);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  pthread_mutex_lock(&lock);
  forget_one(ino, nlookup);
  pthread_mutex_unlock(&lock);
  fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *list) {
  pthread_mutex_lock(&lock);
  for (size_t k = 0; k < count; k++) forget_one(list[k].ino, list[k].nlookup);
  pthread_mutex_unlock(&lock);
  fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  pthread_mutex_lock(&lock);
  struct stat st = nodes[ino].st;
  pthread_mutex_unlock(&lock);
  fuse_reply_attr(req, &st, attr_timeout);
}

static int grow(struct node *n, size_t size) {
  if (size <= n->cap) return 0;
  size_t cap = n->cap ? n->cap : 4096;
  while (cap < size) cap *= 2;
  char *d = realloc(n->data, cap);
  if (!d) return ENOSPC;
  memset(d + n->cap, 0, cap - n->cap);
  n->data = d;
  n->cap = cap;
  return 0;
}

/* Truncates or extends a file: the bytes past the new end read as zeros if it grows again. */
static int resize(struct node *n, off_t size) {
  if (size > n->st.st_size) {
    int err = grow(n, size);
    if (err) return err;
  } else if (n->data) memset(n->data + size, 0, n->st.st_size - size);
  set_size(n, size);
  now(&n->st.st_mtim);
  return 0;
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi) {
  (void)fi;
  pthread_mutex_lock(&lock);
  struct node *n = &nodes[ino];
  int err = 0;
  if ((to_set & FUSE_SET_ATTR_SIZE) && !S_ISREG(n->st.st_mode)) err = S_ISDIR(n->st.st_mode) ? EISDIR : EINVAL;
  else if (to_set & FUSE_SET_ATTR_SIZE) err = resize(n, attr->st_size);
  if (!err) {
    if (to_set & FUSE_SET_ATTR_MODE) n->st.st_mode = (n->st.st_mode & S_IFMT) | (attr->st_mode & 07777);
    if (to_set & FUSE_SET_ATTR_UID) n->st.st_uid = attr->st_uid;
    if (to_set & FUSE_SET_ATTR_GID) n->st.st_gid = attr->st_gid;
    if (to_set & FUSE_SET_ATTR_ATIME) n->st.st_atim = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME) n->st.st_mtim = attr->st_mtim;
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) now(&n->st.st_atim);
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) now(&n->st.st_mtim);
    if (to_set & FUSE_SET_ATTR_CTIME) n->st.st_ctim = attr->st_ctim;
    else now(&n->st.st_ctim);
  }
  struct stat st = n->st;
  pthread_mutex_unlock(&lock);
  if (err) fuse_reply_err(req, err);
  else fuse_reply_attr(req, &st, attr_timeout);
}

/* A new entry: a file, directory, node or link (target: a link's, else NULL). */
static void make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, const char *target,
                 struct fuse_file_info *fi) {
  struct fuse_entry_param e;
  int err = 0;
  if (strlen(name) > NAME_MAX_LEN) err = ENAMETOOLONG;
  char *nm = err ? NULL : strdup(name);
  char *link = target ? strdup(target) : NULL;
  if (!err && (!nm || (target && !link))) err = ENOMEM;
  pthread_mutex_lock(&lock);
  fuse_ino_t i = 0;
  if (!err && !S_ISDIR(nodes[parent].st.st_mode)) err = ENOTDIR;
  if (!err && find(parent, name)) err = EEXIST;
  if (!err && !(i = alloc_node(mode, fuse_req_ctx(req)))) err = ENOSPC;
  if (!err) {
    attach(i, parent, nm);
    nm = NULL;
    if (link) {
      nodes[i].data = link;
      nodes[i].cap = strlen(link) + 1;
      set_size(&nodes[i], strlen(link));
      link = NULL;
    }
    if (S_ISDIR(mode)) nodes[parent].st.st_nlink++;
    now(&nodes[parent].st.st_mtim);
    nodes[parent].st.st_ctim = nodes[parent].st.st_mtim;
    entry_of(i, &e);
  }
  pthread_mutex_unlock(&lock);
  free(nm);
  free(link);
  if (err) fuse_reply_err(req, err);
  else if (fi) {
    fi->direct_io = direct_io;
    fuse_reply_create(req, &e, fi);
  } else fuse_reply_entry(req, &e);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  make(req, parent, name, S_IFDIR | (mode & 07777), NULL, NULL);
}

static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
  (void)rdev;
  if (!S_ISREG(mode) && !S_ISFIFO(mode) && !S_ISSOCK(mode)) fuse_reply_err(req, EPERM);
  else make(req, parent, name, mode, NULL, NULL);
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
  make(req, parent, name, S_IFLNK | 0777, link, NULL);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino) {
  pthread_mutex_lock(&lock);
  char *target = S_ISLNK(nodes[ino].st.st_mode) ? strdup(nodes[ino].data) : NULL;
  pthread_mutex_unlock(&lock);
  if (target) fuse_reply_readlink(req, target);
  else fuse_reply_err(req, EINVAL);
  free(target);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi) {
  make(req, parent, name, S_IFREG | (mode & 07777), NULL, fi);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  int err = 0;
  pthread_mutex_lock(&lock);
  if (fi->flags & O_TRUNC) err = resize(&nodes[ino], 0);
  pthread_mutex_unlock(&lock);
  fi->direct_io = direct_io;
  if (err) fuse_reply_err(req, err);
  else fuse_reply_open(req, fi);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  pthread_mutex_lock(&lock);
  struct node *n = &nodes[ino];
  size_t len = off >= n->st.st_size ? 0 : (size_t)(n->st.st_size - off);
  if (len > size) len = size;
  /* The reply copies the bytes into the kernel before the lock is let go. */
  fuse_reply_buf(req, len ? n->data + off : NULL, len);
  pthread_mutex_unlock(&lock);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  (void)fi;
  pthread_mutex_lock(&lock);
  struct node *n = &nodes[ino];
  int err = grow(n, off + size);
  if (!err) {
    memcpy(n->data + off, buf, size);
    if ((off_t)(off + size) > n->st.st_size) set_size(n, off + size);
    now(&n->st.st_mtim);
    n->st.st_ctim = n->st.st_mtim;
  }
  pthread_mutex_unlock(&lock);
  if (err) fuse_reply_err(req, err);
  else fuse_reply_write(req, size);
}

/* Takes node i out of the namespace (it lives on while the kernel holds it). Under the lock. */
static void remove_entry(fuse_ino_t i) {
  fuse_ino_t parent = nodes[i].parent;
  if (S_ISDIR(nodes[i].st.st_mode)) {
    nodes[parent].st.st_nlink--;
    nodes[i].st.st_nlink = 0;
  } else nodes[i].st.st_nlink--;
  now(&nodes[parent].st.st_mtim);
  nodes[parent].st.st_ctim = nodes[parent].st.st_mtim;
  nodes[i].st.st_ctim = nodes[parent].st.st_mtim;
  detach(i);
  maybe_release(i);
}

static void drop(fuse_req_t req, fuse_ino_t parent, const char *name, int dir) {
  pthread_mutex_lock(&lock);
  fuse_ino_t i = find(parent, name);
  int err = 0;
  if (!i) err = ENOENT;
  else if (dir && !S_ISDIR(nodes[i].st.st_mode)) err = ENOTDIR;
  else if (!dir && S_ISDIR(nodes[i].st.st_mode)) err = EISDIR;
  else if (dir && nodes[i].first) err = ENOTEMPTY;
  if (!err) remove_entry(i);
  pthread_mutex_unlock(&lock);
  fuse_reply_err(req, err);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) { drop(req, parent, name, 0); }
static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) { drop(req, parent, name, 1); }

/* Is a inside directory d (or d itself)? */
static int within(fuse_ino_t a, fuse_ino_t d) {
  for (; a && a != ROOT; a = nodes[a].parent)
    if (a == d) return 1;
  return a == d;
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
  char *nm = strlen(newname) > NAME_MAX_LEN ? NULL : strdup(newname);
  pthread_mutex_lock(&lock);
  fuse_ino_t i = find(parent, name);
  fuse_ino_t t = find(newparent, newname);
  int err = 0;
  if (!nm) err = strlen(newname) > NAME_MAX_LEN ? ENAMETOOLONG : ENOMEM;
  else if (!i) err = ENOENT;
  else if (flags & ~RENAME_NOREPLACE) err = EINVAL; /* no RENAME_EXCHANGE, no whiteouts */
  else if (t && (flags & RENAME_NOREPLACE)) err = EEXIST;
  else if (S_ISDIR(nodes[i].st.st_mode) && within(newparent, i)) err = EINVAL;
  else if (t && t != i) {
    int sdir = S_ISDIR(nodes[i].st.st_mode), tdir = S_ISDIR(nodes[t].st.st_mode);
    if (sdir && !tdir) err = ENOTDIR;
    else if (!sdir && tdir) err = EISDIR;
    else if (tdir && nodes[t].first) err = ENOTEMPTY;
    else remove_entry(t);
  }
  if (!err && t != i) {
    int dir = S_ISDIR(nodes[i].st.st_mode);
    detach(i);
    attach(i, newparent, nm);
    nm = NULL;
    if (dir && parent != newparent) {
      nodes[parent].st.st_nlink--;
      nodes[newparent].st.st_nlink++;
    }
    now(&nodes[i].st.st_ctim);
    nodes[parent].st.st_mtim = nodes[parent].st.st_ctim = nodes[i].st.st_ctim;
    nodes[newparent].st.st_mtim = nodes[newparent].st.st_ctim = nodes[i].st.st_ctim;
  }
  pthread_mutex_unlock(&lock);
  free(nm);
  fuse_reply_err(req, err);
}

/* An open directory: its entries when it was opened (so offsets stay valid while it changes). */
struct dir_snapshot {
  size_t n;
  struct {
    fuse_ino_t ino;
    uint64_t generation;
    mode_t mode;
    char *name;
  } e[];
};

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  pthread_mutex_lock(&lock);
  size_t n = 0;
  for (fuse_ino_t c = nodes[ino].first; c; c = nodes[c].next) n++;
  struct dir_snapshot *d = malloc(sizeof *d + n * sizeof d->e[0]);
  size_t k = 0;
  if (d)
    for (fuse_ino_t c = nodes[ino].first; c; c = nodes[c].next, k++) {
      d->e[k].ino = c;
      d->e[k].generation = nodes[c].generation;
      d->e[k].mode = nodes[c].st.st_mode;
      d->e[k].name = strdup(nodes[c].name);
    }
  pthread_mutex_unlock(&lock);
  if (!d) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  d->n = n;
  fi->fh = (uintptr_t)d;
  fuse_reply_open(req, fi);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  struct dir_snapshot *d = (struct dir_snapshot *)(uintptr_t)fi->fh;
  for (size_t k = 0; k < d->n; k++) free(d->e[k].name);
  free(d);
  fuse_reply_err(req, 0);
}

/* Offsets: 0 '.', 1 '..', k >= 2 the snapshot's entry k - 2; an entry's offset is the next one's. */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi,
                       int plus) {
  struct dir_snapshot *d = (struct dir_snapshot *)(uintptr_t)fi->fh;
  char *buf = malloc(size);
  if (!buf) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  size_t used = 0;
  pthread_mutex_lock(&lock);
  for (off_t k = off; k < (off_t)d->n + 2; k++) {
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    const char *name;
    fuse_ino_t i = 0;
    if (k < 2) {
      name = k == 0 ? "." : "..";
      e.attr.st_ino = k == 0 || ino == ROOT ? ino : nodes[ino].parent;
      e.attr.st_mode = S_IFDIR;
    } else {
      name = d->e[k - 2].name;
      i = d->e[k - 2].ino;
      /* Gone since opendir (freed, reused or unlinked): skip it. */
      if (!nodes[i].used || nodes[i].generation != d->e[k - 2].generation || !nodes[i].parent) continue;
      e.attr = nodes[i].st;
    }
    size_t n;
    if (plus) {
      /* '.' and '..' go with ino 0: the kernel takes no reference to them. */
      if (i) {
        e.ino = i;
        e.generation = nodes[i].generation;
        e.attr_timeout = attr_timeout;
        e.entry_timeout = 1.0;
      }
      n = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, k + 1);
    } else n = fuse_add_direntry(req, buf + used, size - used, name, &e.attr, k + 1);
    if (n > size - used) break;
    if (plus && i) nodes[i].nlookup++; /* counted only once the kernel will see it */
    used += n;
  }
  pthread_mutex_unlock(&lock);
  fuse_reply_buf(req, buf, used);
  free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  do_readdir(req, ino, size, off, fi, 0);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi) {
  do_readdir(req, ino, size, off, fi, 1);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  (void)ino;
  struct statvfs s;
  memset(&s, 0, sizeof s);
  s.f_bsize = s.f_frsize = 4096;
  s.f_blocks = s.f_bfree = s.f_bavail = 1 << 22;
  pthread_mutex_lock(&lock);
  s.f_files = live + (1 << 22);
  s.f_ffree = s.f_favail = 1 << 22;
  pthread_mutex_unlock(&lock);
  s.f_namemax = NAME_MAX_LEN;
  fuse_reply_statfs(req, &s);
}

static void ll_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  fuse_reply_err(req, 0);
}

/* Nothing to make durable: the data lives in this process's memory. */
static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  (void)datasync;
  ll_ok(req, ino, fi);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = ll_lookup,
    .forget = ll_forget,
    .forget_multi = ll_forget_multi,
    .getattr = ll_getattr,
    .setattr = ll_setattr,
    .readlink = ll_readlink,
    .mknod = ll_mknod,
    .mkdir = ll_mkdir,
    .symlink = ll_symlink,
    .unlink = ll_unlink,
    .rmdir = ll_rmdir,
    .rename = ll_rename,
    .open = ll_open,
    .read = ll_read,
    .write = ll_write,
    .flush = ll_ok,
    .release = ll_ok,
    .fsync = ll_fsync,
    .opendir = ll_opendir,
    .readdir = ll_readdir,
    .readdirplus = ll_readdirplus,
    .releasedir = ll_releasedir,
    .fsyncdir = ll_fsync,
    .statfs = ll_statfs,
    .create = ll_create,
};

int main(int argc, char **argv) {
  const char *mnt = NULL;
  int default_permissions = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--attr-timeout") == 0 && i + 1 < argc) attr_timeout = atof(argv[++i]);
    else if (strcmp(argv[i], "--direct-io") == 0) direct_io = 1;
    else if (strcmp(argv[i], "--default-permissions") == 0) default_permissions = 1;
    else mnt = argv[i];
  }
  if (!mnt) {
    fprintf(stderr, "usage: libfuse-ll MOUNTPOINT [--attr-timeout S] [--direct-io] [--default-permissions]\n");
    return 2;
  }
  if (alloc_node(S_IFDIR | 0755, NULL) != ROOT) return 1;
  nodes[ROOT].nlookup = 1;
  char *fargv[] = {argv[0], "-o",
                   default_permissions ? "fsname=libfuse-ll,subtype=libfuse-ll,default_permissions"
                                       : "fsname=libfuse-ll,subtype=libfuse-ll",
                   NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
  struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
  if (!se) return 1;
  if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, mnt) != 0) return 1;
  printf("ready\n");
  fflush(stdout);
  struct fuse_loop_config cfg = {.clone_fd = 0, .max_idle_threads = 10};
  int r = fuse_session_loop_mt(se, &cfg);
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  return r ? 1 : 0;
}
