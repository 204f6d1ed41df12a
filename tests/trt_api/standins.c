/*
 * Stand-in TensorRT libraries, for INTROSPECTION ONLY.
 *
 * The official tensorrt-cuXX-bindings wheels hold the real TensorRT Python module, but it links
 * against libnvinfer, libnvonnxparser and libnvinfer_plugin, which this project's test machines
 * cannot download. The module needs only the nine entry points below. Compiled into three tiny
 * libraries with the right sonames, in a temporary folder used by the API checker alone, they let
 * the module import so that its classes, methods, enum members and signatures can be read.
 *
 * Every factory returns NULL: constructing a Builder, Runtime or OnnxParser fails at once
 * ("factory function returned nullptr"). Nothing can build or run an engine with these; they never
 * leave the checker's temporary folder and are never on a path a notebook uses.
 */
#include <stddef.h>

void *createInferBuilder_INTERNAL(void *logger, int version) { return NULL; }
void *createInferRefitter_INTERNAL(void *engine, void *logger, int version) { return NULL; }
void *createInferRuntime_INTERNAL(void *logger, int version) { return NULL; }
void *getPluginRegistry(void) { return NULL; }
void *getBuilderPluginRegistry(int capability) { return NULL; }
void *createNvOnnxParser_INTERNAL(void *network, void *logger, int version) { return NULL; }
void *createNvOnnxParserRefitter_INTERNAL(void *refitter, void *logger, int version) { return NULL; }
int getNvOnnxParserVersion(void) { return 0; }
int initLibNvInferPlugins(void *logger, const char *ns) { return 0; }
