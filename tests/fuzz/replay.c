/* SPDX-License-Identifier: MIT */
/*
 * The replay driver: a main() for a fuzz harness outside libFuzzer. Each
 * argument is a file, fed to LLVMFuzzerTestOneInput() once, or a folder,
 * whose files are fed in name order (not recursively). Prints one
 * "# NAME" line per input before running it, so that the last such line
 * names an input that crashed, and "# replayed N inputs" at the end.
 *
 * Linked with every harness in the normal and the sanitized build
 * ($(BUILD)/fuzz/NAME); tests/t0660-fuzz-corpora.py runs it over each
 * harness's seed and regression corpus.
 */
#include "fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#define INPUT_MAX (1u << 20)	/* libFuzzer's default -max_len is far less */

static unsigned replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: cannot open \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(INPUT_MAX);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, INPUT_MAX, f);
	fclose(f);
	printf("# %s (%zu bytes)\n", path, n);
	fflush(stdout);
	/* An input of its exact size, as libFuzzer gives it: ASan sees any
	 * read past its end. */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	replayed++;
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name), r = 0;

	if (n < 0) {
		fprintf(stderr, "replay: cannot read \"%s\": %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode) &&
		    replay_file(path) < 0)
			r = -1;
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	int r = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: \"%s\": %s\n", argv[i], strerror(errno));
			r = -1;
		} else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i]) < 0 : replay_file(argv[i]) < 0) {
			r = -1;
		}
	}
	printf("# replayed %u inputs\n", replayed);
	return r < 0 ? 1 : 0;
}
