/*
 * libfuse-ll: the fuse benchmark's floor. A minimal in-memory filesystem on libfuse3's low-level
 * API, multi-threaded loop, one global mutex: what any FUSE server on this machine costs at least.
 * It serves what the benchmark's client does (lookup, getattr, setattr, create, open, read, write,
 * mkdir, unlink, rmdir, rename, readdir, statfs, release, flush, fsync, forget), no more.
 *
 *   libfuse-ll MOUNTPOINT [--attr-timeout S] [--direct-io]
 *
 * Runs in the foreground until unmounted (or SIGINT/SIGTERM). Written for this project.
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 65536
#define NAME_MAX_LEN 255

struct node {
  int used;
  fuse_ino_t parent;
  char name[NAME_MAX_LEN + 1];
  struct stat st;
  char *data;
  size_t cap;
};

static struct node nodes[MAX_NODES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double attr_timeout = 0.0;
static int direct_io = 0;

static void now(struct timespec *t) { clock_gettime(CLOCK_REALTIME, t); }

static fuse_ino_t find(fuse_ino_t parent, const char *name) {
  for (fuse_ino_t i = 2; i < MAX_NODES; i++)
    if (nodes[i].used && nodes[i].parent == parent && strcmp(nodes[i].name, name) == 0) return i;
  return 0;
}

static fuse_ino_t alloc_node(fuse_ino_t parent, const char *name, mode_t mode) {
  for (fuse_ino_t i = 2; i < MAX_NODES; i++) {
    if (nodes[i].used) continue;
    struct node *n = &nodes[i];
    memset(n, 0, sizeof *n);
    n->used = 1;
    n->parent = parent;
    strncpy(n->name, name, NAME_MAX_LEN);
    n->st.st_ino = i;
    n->st.st_mode = mode;
    n->st.st_nlink = S_ISDIR(mode) ? 2 : 1;
    n->st.st_uid = getuid();
    n->st.st_gid = getgid();
    now(&n->st.st_atim);
    n->st.st_mtim = n->st.st_ctim = n->st.st_atim;
    return i;
  }
  return 0;
}

static void reply_entry(fuse_req_t req, fuse_ino_t ino) {
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  e.ino = ino;
  e.attr = nodes[ino].st;
  e.attr_timeout = attr_timeout;
  e.entry_timeout = 1.0;
  fuse_reply_entry(req, &e);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  pthread_mutex_lock(&lock);
  fuse_ino_t i = find(parent, name);
  if (i) reply_entry(req, i);
  pthread_mutex_unlock(&lock);
  if (!i) fuse_reply_err(req, ENOENT);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  pthread_mutex_lock(&lock);
  struct stat st = nodes[ino].st;
  int ok = nodes[ino].used;
  pthread_mutex_unlock(&lock);
  if (ok) fuse_reply_attr(req, &st, attr_timeout);
  else fuse_reply_err(req, ENOENT);
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

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi) {
  (void)fi;
  pthread_mutex_lock(&lock);
  struct node *n = &nodes[ino];
  int err = 0;
  if (to_set & FUSE_SET_ATTR_SIZE) {
    err = grow(n, attr->st_size);
    if (!err) {
      if ((size_t)attr->st_size < (size_t)n->st.st_size)
        memset(n->data + attr->st_size, 0, n->st.st_size - attr->st_size);
      n->st.st_size = attr->st_size;
    }
  }
  if (to_set & FUSE_SET_ATTR_MODE) n->st.st_mode = (n->st.st_mode & S_IFMT) | (attr->st_mode & 07777);
  if (to_set & FUSE_SET_ATTR_UID) n->st.st_uid = attr->st_uid;
  if (to_set & FUSE_SET_ATTR_GID) n->st.st_gid = attr->st_gid;
  if (to_set & FUSE_SET_ATTR_ATIME) n->st.st_atim = attr->st_atim;
  if (to_set & FUSE_SET_ATTR_MTIME) n->st.st_mtim = attr->st_mtim;
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) now(&n->st.st_atim);
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) now(&n->st.st_mtim);
  now(&n->st.st_ctim);
  struct stat st = n->st;
  pthread_mutex_unlock(&lock);
  if (err) fuse_reply_err(req, err);
  else fuse_reply_attr(req, &st, attr_timeout);
}

static void make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                 struct fuse_file_info *fi) {
  pthread_mutex_lock(&lock);
  fuse_ino_t i = find(parent, name);
  int err = i ? EEXIST : 0;
  if (!err && !(i = alloc_node(parent, name, mode))) err = ENOSPC;
  if (!err && S_ISDIR(mode)) nodes[parent].st.st_nlink++;
  if (!err) now(&nodes[parent].st.st_mtim);
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  if (!err) {
    e.ino = i;
    e.attr = nodes[i].st;
    e.attr_timeout = attr_timeout;
    e.entry_timeout = 1.0;
  }
  pthread_mutex_unlock(&lock);
  if (err) fuse_reply_err(req, err);
  else if (fi) {
    fi->direct_io = direct_io;
    fuse_reply_create(req, &e, fi);
  } else fuse_reply_entry(req, &e);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  make(req, parent, name, S_IFDIR | (mode & 07777), NULL);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi) {
  make(req, parent, name, S_IFREG | (mode & 07777), fi);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  pthread_mutex_lock(&lock);
  if (fi->flags & O_TRUNC) {
    nodes[ino].st.st_size = 0;
    now(&nodes[ino].st.st_mtim);
  }
  pthread_mutex_unlock(&lock);
  fi->direct_io = direct_io;
  fuse_reply_open(req, fi);
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
    if ((off_t)(off + size) > n->st.st_size) n->st.st_size = off + size;
    now(&n->st.st_mtim);
  }
  pthread_mutex_unlock(&lock);
  if (err) fuse_reply_err(req, err);
  else fuse_reply_write(req, size);
}

static void drop(fuse_req_t req, fuse_ino_t parent, const char *name, int dir) {
  pthread_mutex_lock(&lock);
  fuse_ino_t i = find(parent, name);
  int err = 0;
  if (!i) err = ENOENT;
  else if (dir && !S_ISDIR(nodes[i].st.st_mode)) err = ENOTDIR;
  else if (!dir && S_ISDIR(nodes[i].st.st_mode)) err = EISDIR;
  else if (dir) {
    for (fuse_ino_t j = 2; j < MAX_NODES && !err; j++)
      if (nodes[j].used && nodes[j].parent == i) err = ENOTEMPTY;
  }
  if (!err) {
    free(nodes[i].data);
    nodes[i].used = 0;
    if (dir) nodes[parent].st.st_nlink--;
    now(&nodes[parent].st.st_mtim);
  }
  pthread_mutex_unlock(&lock);
  fuse_reply_err(req, err);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) { drop(req, parent, name, 0); }
static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) { drop(req, parent, name, 1); }

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
  pthread_mutex_lock(&lock);
  fuse_ino_t i = find(parent, name);
  fuse_ino_t t = find(newparent, newname);
  int err = !i ? ENOENT : (flags ? EINVAL : 0);
  if (!err && t && t != i) {
    if (S_ISDIR(nodes[t].st.st_mode)) err = EISDIR;
    else {
      free(nodes[t].data);
      nodes[t].used = 0;
    }
  }
  if (!err) {
    nodes[i].parent = newparent;
    strncpy(nodes[i].name, newname, NAME_MAX_LEN);
    now(&nodes[i].st.st_ctim);
  }
  pthread_mutex_unlock(&lock);
  fuse_reply_err(req, err);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  char *buf = malloc(size);
  if (!buf) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  size_t used = 0;
  pthread_mutex_lock(&lock);
  /* Offsets: 1 '.', 2 '..', then i + 3 for node i. */
  for (off_t k = off; k < MAX_NODES + 3; k++) {
    struct stat st;
    const char *name;
    memset(&st, 0, sizeof st);
    if (k == 0) {
      name = ".";
      st.st_ino = ino;
      st.st_mode = S_IFDIR;
    } else if (k == 1) {
      name = "..";
      st.st_ino = ino == 1 ? 1 : nodes[ino].parent;
      st.st_mode = S_IFDIR;
    } else if (k == 2) {
      continue;
    } else {
      fuse_ino_t i = k - 3;
      if (i < 2 || !nodes[i].used || nodes[i].parent != ino) continue;
      name = nodes[i].name;
      st = nodes[i].st;
    }
    size_t n = fuse_add_direntry(req, buf + used, size - used, name, &st, k + 1);
    if (n > size - used) break;
    used += n;
  }
  pthread_mutex_unlock(&lock);
  fuse_reply_buf(req, buf, used);
  free(buf);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  (void)ino;
  struct statvfs s;
  memset(&s, 0, sizeof s);
  s.f_bsize = s.f_frsize = 4096;
  s.f_blocks = s.f_bfree = s.f_bavail = 1 << 20;
  s.f_files = s.f_ffree = MAX_NODES;
  s.f_namemax = NAME_MAX_LEN;
  fuse_reply_statfs(req, &s);
}

static void ll_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  (void)fi;
  fuse_reply_err(req, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  (void)datasync;
  ll_ok(req, ino, fi);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  (void)ino;
  (void)nlookup;
  fuse_reply_none(req);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = ll_lookup,
    .forget = ll_forget,
    .getattr = ll_getattr,
    .setattr = ll_setattr,
    .mkdir = ll_mkdir,
    .unlink = ll_unlink,
    .rmdir = ll_rmdir,
    .rename = ll_rename,
    .open = ll_open,
    .read = ll_read,
    .write = ll_write,
    .flush = ll_ok,
    .release = ll_ok,
    .fsync = ll_fsync,
    .opendir = ll_ok,
    .readdir = ll_readdir,
    .releasedir = ll_ok,
    .statfs = ll_statfs,
    .create = ll_create,
};

int main(int argc, char **argv) {
  const char *mnt = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--attr-timeout") == 0 && i + 1 < argc) attr_timeout = atof(argv[++i]);
    else if (strcmp(argv[i], "--direct-io") == 0) direct_io = 1;
    else mnt = argv[i];
  }
  if (!mnt) {
    fprintf(stderr, "usage: libfuse-ll MOUNTPOINT [--attr-timeout S] [--direct-io]\n");
    return 2;
  }
  nodes[1].used = 1;
  nodes[1].st.st_ino = 1;
  nodes[1].st.st_mode = S_IFDIR | 0755;
  nodes[1].st.st_nlink = 2;
  now(&nodes[1].st.st_mtim);
  char *fargv[] = {argv[0], "-o", "fsname=libfuse-ll,subtype=libfuse-ll", NULL};
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
