// glibc gives each thread that allocates at the same time as another an
// arena of its own, up to eight per core, and memory freed into an arena
// stays there for that arena's next allocations: libvips' worker threads
// then keep tens of MiB that no request needs any more. libvips'
// documentation advises MALLOC_ARENA_MAX=2 for servers. This sets the same
// cap when the program loads, before any thread has allocated (a cap set
// later does not reach arenas that exist already), unless MALLOC_ARENA_MAX
// is in the environment, which glibc reads itself. Other C libraries are
// left alone.

#include <stdlib.h>

#ifdef __GLIBC__
#include <malloc.h>

static int keyhole_arenas;

__attribute__((constructor)) static void keyhole_cap_arenas(void) {
	if (getenv("MALLOC_ARENA_MAX") == NULL && mallopt(M_ARENA_MAX, 2) == 1)
		keyhole_arenas = 2;
}

int keyhole_arena_max(void) { return keyhole_arenas; }
#else
int keyhole_arena_max(void) { return -1; }
#endif
