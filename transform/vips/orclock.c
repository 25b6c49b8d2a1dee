// liborc 0.4.33 (Debian 12, under libvips 8.14) allocates the code of a
// compiled program under its global mutex but frees it without one: two
// libvips images released at the same moment on two threads corrupt its
// list of code chunks, and the process dies with SIGSEGV in
// orc_code_free. libvips compiles and frees its Orc programs only through
// orc_program_compile and orc_program_free; this file defines both in the
// program itself, so the dynamic linker binds libvips' calls here first,
// and each takes one process-wide mutex around liborc's own function
// (found with dlsym(RTLD_NEXT)). Compiles and frees then never overlap.
// A liborc that locks on its own pays one uncontended mutex more.
//
// keyhole_orc_wrapped counts the calls that came through here: Startup
// leaves Orc on only when libvips' calls are seen to arrive.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

typedef struct _OrcProgram OrcProgram;

static pthread_mutex_t keyhole_orc_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t keyhole_orc_once = PTHREAD_ONCE_INIT;
static int (*keyhole_real_compile)(OrcProgram *);
static void (*keyhole_real_free)(OrcProgram *);
static long keyhole_orc_calls;

static void keyhole_orc_resolve(void) {
	keyhole_real_compile = (int (*)(OrcProgram *)) dlsym(RTLD_NEXT, "orc_program_compile");
	keyhole_real_free = (void (*)(OrcProgram *)) dlsym(RTLD_NEXT, "orc_program_free");
}

int orc_program_compile(OrcProgram *p) {
	pthread_once(&keyhole_orc_once, keyhole_orc_resolve);
	pthread_mutex_lock(&keyhole_orc_mu);
	int r = keyhole_real_compile(p);
	keyhole_orc_calls++;
	pthread_mutex_unlock(&keyhole_orc_mu);
	return r;
}

void orc_program_free(OrcProgram *p) {
	pthread_once(&keyhole_orc_once, keyhole_orc_resolve);
	pthread_mutex_lock(&keyhole_orc_mu);
	keyhole_real_free(p);
	keyhole_orc_calls++;
	pthread_mutex_unlock(&keyhole_orc_mu);
}

long keyhole_orc_wrapped(void) {
	pthread_mutex_lock(&keyhole_orc_mu);
	long n = keyhole_orc_calls;
	pthread_mutex_unlock(&keyhole_orc_mu);
	return n;
}

int keyhole_orc_resolved(void) {
	pthread_once(&keyhole_orc_once, keyhole_orc_resolve);
	return keyhole_real_compile != NULL && keyhole_real_free != NULL;
}
