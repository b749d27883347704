/* Internal, engine module only (C++): whether two TorchScript graphs run the
 * same computation, constants bit for bit (lib/engine_graph_equal.cpp). */
#ifndef IMGCLASS_ENGINE_GRAPH_EQUAL_H
#define IMGCLASS_ENGINE_GRAPH_EQUAL_H

#ifdef __cplusplus

#include <torch/script.h>

#include <string>

namespace ic_graph {

/* True when `a` and `b` have the same operators in the same order, wired
 * alike, with the same attributes and the same constants (tensors: the same
 * type, sizes, strides and bytes; MKLDNN tensors through their dense form).
 * Value names, the order of constant nodes and the static types recorded on
 * values are ignored: they do not change what the interpreter runs. Any
 * attribute or constant of a kind this does not know makes the answer
 * false, with `why` saying where. */
bool same_computation(const torch::jit::Graph &a, const torch::jit::Graph &b, std::string *why);

} // namespace ic_graph

#endif
#endif
