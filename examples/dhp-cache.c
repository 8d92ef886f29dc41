/* SPDX-License-Identifier: MIT */
/*
 * dhp-cache: a cache sized to a fraction of the partition's memory (1/8 by
 * default) that grows when dhp hot adds memory and gives memory back
 * before dhp hot removes some. An example of libdhp (docs/examples.md); it
 * shows a program without a libdhp loop of its own: dhp_start_thread()
 * runs the callbacks on a helper thread.
 *
 *   add-complete     more memory: grow the cache to its new share
 *   remove-query     shrink to the share of what will remain *before*
 *                    approving: the kernel can only take memory offline if
 *                    it can move the pages in use somewhere else
 *   remove-failure   the memory stays: grow back
 *   replace-*        the same amount of memory on other modules: no change
 *
 * Callbacks must be quick (the agent waits for all programs 2 s at most).
 * Freeing is quick, so a shrink happens in the callback. Growing touches
 * every page, which takes long, so the callback only sets the target and
 * wakes the main thread (an eventfd), which grows the cache chunk by chunk.
 *
 * Build: cc -Iinclude dhp-cache.c -ldhp -pthread (or pkg-config dhp).
 */
#define _GNU_SOURCE
#include <dhp/dhp.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define NAME "dhp-cache"
#define CHUNK (16u << 20)		/* the cache is made of 16 MiB chunks */
#define MIB(b) ((unsigned long long)((b) >> 20))

/* Shared by the helper thread (callbacks) and the main thread (growth):
 * every field under lock. Never call into libdhp with lock held: a
 * callback holds libdhp's lock and then takes this one. */
struct cache {
	pthread_mutex_t lock;
	char **chunks;
	size_t n, cap;			/* chunks in use, room in chunks[] */
	size_t target;			/* chunks wanted */
	unsigned fraction;		/* the cache is 1/fraction of memory */
	int wake_fd;			/* eventfd: the main thread should grow */
	struct dhp *dhp;
};

/* The share of memory bytes, in chunks. */
static size_t share(const struct cache *c, uint64_t memory)
{
	return (size_t)(memory / c->fraction / CHUNK);
}

/* Free chunks down to the target; under lock. */
static void shrink_locked(struct cache *c)
{
	while (c->n > c->target)
		free(c->chunks[--c->n]);
}

/* Set the target for this much memory: shrink at once, or ask the main
 * thread to grow. Returns the target in MiB, for messages. */
static unsigned long long retarget(struct cache *c, uint64_t memory)
{
	uint64_t one = 1;
	size_t target;

	pthread_mutex_lock(&c->lock);
	target = c->target = share(c, memory);
	shrink_locked(c);
	if (c->n < c->target && write(c->wake_fd, &one, sizeof(one)) < 0)
		printf(NAME ": cannot wake the main thread: %s\n", strerror(errno));
	pthread_mutex_unlock(&c->lock);
	return MIB((uint64_t)target * CHUNK);
}

/* On the main thread: allocate and touch chunks until the target (which a
 * callback may lower meanwhile) is reached. The kernel gives a page only
 * when it is first written: memset makes the cache really use memory. */
static void grow(struct cache *c)
{
	struct timespec t0, t1;
	size_t n, target, from;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&c->lock);
	from = c->n;
	pthread_mutex_unlock(&c->lock);
	for (;;) {
		char *chunk, **chunks;

		pthread_mutex_lock(&c->lock);
		n = c->n, target = c->target;
		pthread_mutex_unlock(&c->lock);
		if (n >= target || !(chunk = malloc(CHUNK)))
			break;
		memset(chunk, 0xa5, CHUNK);		/* outside the lock: slow */
		pthread_mutex_lock(&c->lock);
		if (c->n < c->target && c->n == c->cap &&
		    (chunks = realloc(c->chunks, (c->cap * 2 + 8) * sizeof(*chunks)))) {
			c->chunks = chunks;
			c->cap = c->cap * 2 + 8;
		}
		if (c->n < c->target && c->n < c->cap) {
			c->chunks[c->n++] = chunk;
			chunk = NULL;
		}
		pthread_mutex_unlock(&c->lock);
		free(chunk);	/* not wanted any more: the target went down */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (n != from)
		printf(NAME ": cache is %llu MiB (grown in %ld ms)\n", MIB((uint64_t)n * CHUNK),
		       (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
}

/* "NAME: memory 0xADDR (SIZE MiB) WHAT: N MiB online: cache M MiB [PHASE]" */
static void report(const struct dhp_change *ch, const char *what, uint64_t memory,
		   unsigned long long cache)
{
	printf(NAME ": memory 0x%" PRIx64 " (%llu MiB) %s: %llu MiB online: cache %llu MiB [%s%s]\n",
	       ch->memory.phys_addr, MIB(ch->memory.size), what, MIB(memory), cache,
	       dhp_phase_name(ch->phase), ch->flags & DHP_CHANGE_UEVENT ? ", uevent" : "");
}

static int on_memory(const struct dhp_change *ch, char *reason, size_t reason_size,
		     void *userdata)
{
	struct cache *c = userdata;
	unsigned long long cache;
	uint64_t memory;

	(void)reason, (void)reason_size;	/* we never veto */
	if (dhp_memory_size(c->dhp, &memory) < 0)
		return 0;
	switch (ch->phase) {
	case DHP_PHASE_ADD_COMPLETE:
		cache = retarget(c, memory);
		report(ch, "added", memory, cache);
		break;
	case DHP_PHASE_REMOVE_QUERY:
		/* Still online: make room as if it were gone already. */
		cache = retarget(c, memory > ch->memory.size ? memory - ch->memory.size : 0);
		report(ch, "may go: shrunk before approving", memory, cache);
		break;
	case DHP_PHASE_REMOVE_FAILURE:
		cache = retarget(c, memory);
		report(ch, "stays: growing back", memory, cache);
		break;
	case DHP_PHASE_REMOVE_COMPLETE:
		cache = retarget(c, memory);
		report(ch, "removed", memory, cache);
		break;
	default:	/* starts, add-failure, replace: nothing to do */
		pthread_mutex_lock(&c->lock);
		cache = MIB((uint64_t)c->target * CHUNK);
		pthread_mutex_unlock(&c->lock);
		report(ch, ch->phase == DHP_PHASE_ADD_START ? "is coming: approving" : "no change",
		       memory, cache);
		break;
	}
	return 0;
}

static void on_transport(struct dhp *dhp, uint32_t transport, int error, void *userdata)
{
	uint64_t memory;

	printf(NAME ": transport %s%s%s\n", dhp_transport_name(transport), error ? ": " : "",
	       error ? strerror(-error) : "");
	/* Changes may have been missed: size again from the query. */
	if (error && dhp_memory_size(dhp, &memory) == 0)
		printf(NAME ": %llu MiB of memory: cache %llu MiB\n", MIB(memory),
		       retarget(userdata, memory));
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " NAME " [--fraction N] [--uevents] [--help]\n"
		"A cache of 1/N of the partition's memory, following hot add and remove\n"
		"(libdhp's example; docs/examples.md).\n"
		"  --fraction N  the cache's share of memory is 1/N (default 8, at least 2)\n"
		"  --uevents     kernel uevents only (DHP_OPEN_NO_AGENT): complete phases, no vetoes\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fraction", required_argument, NULL, 'f' }, { "uevents", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct cache c = { .lock = PTHREAD_MUTEX_INITIALIZER, .fraction = 8, .wake_fd = -1 };
	struct dhp_registration *reg;
	uint32_t flags = 0;
	int opt, r, sfd, status = 1;
	uint64_t memory, count;
	char *end;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f') {
			c.fraction = (unsigned)strtoul(optarg, &end, 10);
			if (*end || c.fraction < 2 || c.fraction > 1024) {
				fprintf(stderr, NAME ": --fraction takes 2 to 1024\n");
				return 2;
			}
		} else if (opt == 'u') {
			flags |= DHP_OPEN_NO_AGENT;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* glibc serves large blocks with mmap and unmaps them on free(): the
	 * memory goes back to the kernel at once, which a shrink relies on.
	 * A fixed threshold turns off its adaptive one, which would move
	 * later chunks onto the heap, where free() may keep them. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	c.wake_fd = eventfd(0, EFD_CLOEXEC);
	if (sfd < 0 || c.wake_fd < 0) {
		fprintf(stderr, NAME ": signalfd, eventfd: %s\n", strerror(errno));
		goto close_fds;
	}
	if ((r = dhp_open(&c.dhp, NULL, flags)) < 0) {
		fprintf(stderr, NAME ": cannot open libdhp: %s\n", strerror(-r));
		goto close_fds;
	}
	printf(NAME ": transport %s\n", dhp_transport_name((uint32_t)dhp_transport(c.dhp)));
	dhp_set_transport_callback(c.dhp, on_transport, &c);
	/* From dhp_start_thread() on, callbacks run on the helper thread;
	 * the size is read after it, so that no change falls in between. */
	if ((r = dhp_register(c.dhp, DHP_KIND_MEMORY, 0, on_memory, &c, &reg)) < 0 ||
	    (r = dhp_start_thread(c.dhp)) < 0 || (r = dhp_memory_size(c.dhp, &memory)) < 0) {
		fprintf(stderr, NAME ": cannot start: %s\n", strerror(-r));
		goto close_dhp;
	}
	printf(NAME ": %llu MiB of memory: cache %llu MiB (1/%u)\n", MIB(memory),
	       retarget(&c, memory), c.fraction);
	for (;;) {
		struct pollfd p[2] = { { .fd = c.wake_fd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents && read(c.wake_fd, &count, sizeof(count)) == sizeof(count))
			grow(&c);
	}
	printf(NAME ": stopping\n");
	status = 0;
	dhp_stop_thread(c.dhp);		/* no callback runs after this */
close_dhp:
	dhp_close(c.dhp);
	c.target = 0;
	shrink_locked(&c);
	free(c.chunks);
close_fds:
	if (c.wake_fd >= 0)
		close(c.wake_fd);
	if (sfd >= 0)
		close(sfd);
	return status;
}
