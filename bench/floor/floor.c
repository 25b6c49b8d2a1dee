// floor: what libvips alone needs for one of the transform cases of
// bench/scenarios.go. The suite compiles it at run time (cc with
// pkg-config vips) and runs
//
//	floor FILE jpeg|webp WIDTH WARMUP_S ROUNDS ROUND_S
//
// It reads FILE once, then loops vips_thumbnail_buffer to WIDTH pixels wide
// and saves with Keyhole's settings: JPEG Q 80, optimised Huffman tables,
// metadata stripped, baseline (libvips' default subsampling); WebP Q 80,
// effort 4, default preset, lossy, alpha Q 100, metadata stripped. One
// libvips thread, operation cache off. After WARMUP_S seconds of calls it
// prints one line per round of ROUND_S seconds:
//
//	round CALLS CPU_NS BYTES
//
// CALLS is the calls in the round, CPU_NS the process CPU time they used
// (every thread, CLOCK_PROCESS_CPUTIME_ID), BYTES the last output's size.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vips/vips.h>

static long long now_ns(clockid_t clk) {
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// once runs one thumbnail and save; it returns the output's size, or -1.
static long once(const void *buf, size_t len, int webp, int width) {
	VipsImage *img;
	void *out = NULL;
	size_t n = 0;
	int err;

	if (vips_thumbnail_buffer((void *) buf, len, &img, width, "height", VIPS_MAX_COORD, NULL))
		return -1;
	if (webp)
		err = vips_webpsave_buffer(img, &out, &n, "Q", 80, "effort", 4, "lossless", FALSE,
			"preset", VIPS_FOREIGN_WEBP_PRESET_DEFAULT, "alpha_q", 100, "strip", TRUE, NULL);
	else
		err = vips_jpegsave_buffer(img, &out, &n, "Q", 80, "optimize_coding", TRUE,
			"strip", TRUE, "interlace", FALSE, NULL);
	g_object_unref(img);
	if (err)
		return -1;
	g_free(out);
	return (long) n;
}

int main(int argc, char **argv) {
	gchar *buf;
	gsize len;
	int webp, width, rounds;
	double warmup, round;
	long bytes = 0;

	if (argc != 7) {
		fprintf(stderr, "usage: floor FILE jpeg|webp WIDTH WARMUP_S ROUNDS ROUND_S\n");
		return 2;
	}
	if (VIPS_INIT(argv[0]))
		vips_error_exit(NULL);
	vips_concurrency_set(1);
	vips_cache_set_max(0);
	if (!g_file_get_contents(argv[1], &buf, &len, NULL)) {
		fprintf(stderr, "floor: cannot read %s\n", argv[1]);
		return 1;
	}
	webp = strcmp(argv[2], "webp") == 0;
	width = atoi(argv[3]);
	warmup = atof(argv[4]);
	rounds = atoi(argv[5]);
	round = atof(argv[6]);
	for (long long end = now_ns(CLOCK_MONOTONIC) + (long long) (warmup * 1e9); now_ns(CLOCK_MONOTONIC) < end;)
		if (once(buf, len, webp, width) < 0)
			vips_error_exit(NULL);
	for (int r = 0; r < rounds; r++) {
		long long cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), end = now_ns(CLOCK_MONOTONIC) + (long long) (round * 1e9);
		long calls = 0;
		do {
			if ((bytes = once(buf, len, webp, width)) < 0)
				vips_error_exit(NULL);
			calls++;
		} while (now_ns(CLOCK_MONOTONIC) < end);
		printf("round %ld %lld %ld\n", calls, now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0, bytes);
	}
	g_free(buf);
	vips_shutdown();
	return 0;
}
