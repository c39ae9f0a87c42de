/*
 * oom.cc - out of memory in C++ code (GEOS) fails the run, not the process.
 *
 * mimalloc replaces operator new as well as malloc, and its operator new
 * calls abort() when memory runs out (Debian's build never calls a C++ new
 * handler): where GEOS would have caught std::bad_alloc and the run failed
 * with a message, the tool died of SIGABRT without a word. So the tool is
 * linked with libstdc++ ahead of mimalloc (cli/meson.build), and it is
 * libstdc++'s operator new that is found: it takes memory from malloc, which
 * is still mimalloc's, and throws std::bad_alloc when there is none. This
 * call into libstdc++ (it leaves the default: no new handler) is what keeps
 * the linker from dropping libstdc++ from that place as unneeded.
 */
#include <new>

extern "C" void cli_libstdcxx_first(void);

extern "C" void cli_libstdcxx_first(void)
{
    std::set_new_handler(nullptr);
}
