/*
 * Stand-in for TensorRT 8.x's libnvparsers (UFF and Caffe parsers), for INTROSPECTION ONLY.
 *
 * The TensorRT 8.6 bindings also link against libnvparsers.so.8, which was removed in TensorRT 10.
 * The module needs these four C++ entry points (their mangled names, defined here as C functions).
 * Like standins.c they return NULL or do nothing: nothing can be parsed with them, and they live only
 * in the checker's temporary folder while stubs of the 8.6 bindings are generated.
 */
#include <stddef.h>

void *_ZN11nvuffparser15createUffParserEv(void) { return NULL; }                       /* nvuffparser::createUffParser() */
void _ZN11nvuffparser8FieldMapC1EPKcPKvNS_9FieldTypeEi(void *self, const char *name, const void *data, int type, int length) {}  /* nvuffparser::FieldMap::FieldMap(...) */
void *_ZN14nvcaffeparser117createCaffeParserEv(void) { return NULL; }                  /* nvcaffeparser1::createCaffeParser() */
void _ZN14nvcaffeparser123shutdownProtobufLibraryEv(void) {}                           /* nvcaffeparser1::shutdownProtobufLibrary() */
