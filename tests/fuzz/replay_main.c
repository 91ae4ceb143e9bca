/* SPDX-License-Identifier: MIT */
/*
 * Replays a fuzz corpus through LLVMFuzzerTestOneInput without libFuzzer, so
 * every build runs it. Each file is copied into a buffer of exactly its size,
 * so AddressSanitizer sees any read past the end.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	struct dirent *e;
	DIR *dir;
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	dir = opendir(argv[1]);
	if (dir == NULL) {
		perror(argv[1]);
		return 1;
	}
	while ((e = readdir(dir)) != NULL) {
		char path[4096];
		uint8_t *buf;
		long len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		f = fopen(path, "rb");
		if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
			perror(path);
			return 1;
		}
		buf = malloc(len > 0 ? (size_t)len : 1);
		if (buf == NULL ||
		    fread(buf, 1, (size_t)len, f) != (size_t)len) {
			perror(path);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		n++;
	}
	closedir(dir);
	if (n == 0) {
		fprintf(stderr, "no corpus files in %s\n", argv[1]);
		return 1;
	}
	printf("%d passed, 0 failed\n", n);
	return 0;
}
