/* SPDX-License-Identifier: MIT */
/*
 * dhp-pin-memory: a program for the guest tests (tests/t1430-qemu-faults.py)
 * that makes hot-added memory impossible to take offline, as a driver
 * doing DMA into user pages would.
 *
 * It waits for a memory block online in the Movable zone (the agent onlines
 * hot-added memory there), allocates memory until some of its pages land
 * in such blocks (user allocations take the Movable zone first), and pins
 * those pages: it vmsplice()s them into pipes it never reads, so each page
 * carries a reference the kernel's page migration cannot move. Offlining
 * such a block then retries in the kernel until the writer is killed, and
 * dhp-agent gives up after its --offline-timeout-ms with EBUSY.
 *
 * It prints "dhp-pin-memory: pinned N pages in memory block B ..." once the
 * pages are pinned, and holds them until SIGTERM. Needs root (it reads
 * physical addresses from /proc/self/pagemap).
 *
 * Usage: dhp-pin-memory [--mib=N]   (N MiB per allocation, default 64)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096UL
#define BLOCKS_MAX 64		/* distinct blocks pinned at most */
#define PAGES_PER_BLOCK 16	/* a pipe's default capacity, in pages */
#define ALLOCATIONS_MAX 16

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Is memory block b online in the Movable zone? */
static int block_movable(uint64_t b)
{
	char path[96], state[32], zone[64];

	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%llu/state",
		 (unsigned long long)b);
	if (read_text(path, state, sizeof(state)) < 0 || strcmp(state, "online"))
		return 0;
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%llu/valid_zones",
		 (unsigned long long)b);
	return read_text(path, zone, sizeof(zone)) == 0 && !strcmp(zone, "Movable");
}

static int any_movable(void)
{
	for (uint64_t b = 0; b < 4096; b++)
		if (block_movable(b))
			return 1;
	return 0;
}

struct pinned {
	uint64_t block;
	int pipe[2];
	unsigned pages;
};

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pinned pins[BLOCKS_MAX];
	unsigned n_pins = 0, total = 0;
	unsigned long mib = 64;
	uint64_t block_size;
	char text[64];
	int pagemap;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--mib=", 6) && (mib = strtoul(argv[i] + 6, NULL, 10)) > 0)
			continue;
		fprintf(stderr, "usage: dhp-pin-memory [--mib=N]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (read_text("/sys/devices/system/memory/block_size_bytes", text, sizeof(text)) < 0) {
		printf("dhp-pin-memory: this kernel has no memory hotplug\n");
		return 1;
	}
	block_size = strtoull(text, NULL, 16);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap < 0 || block_size < PAGE) {
		printf("dhp-pin-memory: cannot read /proc/self/pagemap: %s\n", strerror(errno));
		return 1;
	}
	printf("dhp-pin-memory: waiting for memory online in the Movable zone\n");
	while (!stopping && !any_movable())
		usleep(200000);

	for (unsigned a = 0; !stopping && n_pins == 0 && a < ALLOCATIONS_MAX; a++) {
		size_t len = mib << 20;
		char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);

		if (mem == MAP_FAILED)
			break;
		/* Never freed: the pages outside Movable blocks stay taken, so
		 * that the next allocation goes elsewhere. */
		for (size_t off = 0; off < len && n_pins < BLOCKS_MAX; off += PAGE) {
			uint64_t entry, pfn, block;
			struct pinned *p = NULL;
			struct iovec iov = { mem + off, PAGE };

			mem[off] = 1;	/* present, so that it has a frame */
			if (pread(pagemap, &entry, sizeof(entry),
				  (off_t)(((uintptr_t)mem + off) / PAGE * sizeof(entry))) !=
			    sizeof(entry) || !(entry >> 63))
				continue;
			pfn = entry & ((1ULL << 55) - 1);
			block = pfn * PAGE / block_size;
			for (unsigned i = 0; i < n_pins && !p; i++)
				if (pins[i].block == block)
					p = &pins[i];
			if (!p) {
				if (!pfn || !block_movable(block))
					continue;
				p = &pins[n_pins];
				if (pipe(p->pipe) < 0)
					break;
				p->block = block;
				p->pages = 0;
				n_pins++;
			}
			if (p->pages >= PAGES_PER_BLOCK)
				continue;
			/* The pipe keeps a reference to the page until read. */
			if (vmsplice(p->pipe[1], &iov, 1, SPLICE_F_NONBLOCK) == (ssize_t)PAGE) {
				p->pages++;
				total++;
			}
		}
	}
	if (!n_pins) {
		printf("dhp-pin-memory: no page of mine landed in a Movable block\n");
		return 1;
	}
	for (unsigned i = 0; i < n_pins; i++)
		printf("dhp-pin-memory: pinned %u pages in memory block %llu (0x%llx)\n",
		       pins[i].pages, (unsigned long long)pins[i].block,
		       (unsigned long long)(pins[i].block * block_size));
	printf("dhp-pin-memory: pinned %u pages in %u blocks; holding them\n", total, n_pins);
	while (!stopping)
		pause();
	printf("dhp-pin-memory: stopping\n");
	return 0;
}
