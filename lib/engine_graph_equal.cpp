// Whether two TorchScript graphs run the same computation (see the header).
//
// Why: the model cache (docs/engine.md, "Cold start") stores a frozen
// module and, on a later start, runs optimize_for_inference on the stored
// copy instead of on the module frozen from the archive. libtorch does not
// promise that a saved and reloaded graph optimises to the same operators:
// the reloaded one is recompiled from its printed code, and its constants
// come back in another order with other value names. A cache entry is
// therefore written only when the reloaded copy's optimised graph is the
// same computation as the one the load itself runs (lib/engine_torch.cpp),
// which this decides, so that a cache hit gives the same bits as no cache.
#include "engine_graph_equal.h"

#include <torch/csrc/jit/ir/constants.h>

#include <cstring>
#include <unordered_map>
#include <vector>

namespace ic_graph {
namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

bool is_constant(const Node *n)
{
    return n->kind() == c10::prim::Constant || n->kind() == c10::prim::ConstantMKLDNNTensor;
}

bool same_bits(const void *a, const void *b, size_t n)
{
    return n == 0 || std::memcmp(a, b, n) == 0;
}

bool same_tensor(at::Tensor a, at::Tensor b)
{
    if (a.defined() != b.defined())
        return false;
    if (!a.defined())
        return true;
    if (a.is_mkldnn() != b.is_mkldnn() || a.scalar_type() != b.scalar_type() ||
        a.sizes() != b.sizes() || a.device() != b.device() || a.is_quantized() ||
        b.is_quantized() || a.is_sparse() || b.is_sparse())
        return false;
    if (a.is_mkldnn()) {
        a = a.to_dense();
        b = b.to_dense();
    } else if (a.strides() != b.strides()) {
        return false; // a layout (channels_last weights) changes the kernels
    }
    a = a.cpu().contiguous();
    b = b.cpu().contiguous();
    return same_bits(a.data_ptr(), b.data_ptr(), a.nbytes());
}

// IValues of the kinds constants take; anything else counts as different.
bool same_ivalue(const c10::IValue &a, const c10::IValue &b)
{
    if (a.tagKind() != b.tagKind())
        return false;
    if (a.isNone())
        return true;
    if (a.isBool())
        return a.toBool() == b.toBool();
    if (a.isInt())
        return a.toInt() == b.toInt();
    if (a.isDouble()) {
        double x = a.toDouble(), y = b.toDouble();
        return same_bits(&x, &y, sizeof x);
    }
    if (a.isString())
        return a.toStringRef() == b.toStringRef();
    if (a.isDevice())
        return a.toDevice() == b.toDevice();
    if (a.isTensor())
        return same_tensor(a.toTensor(), b.toTensor());
    if (a.isList()) {
        c10::List<c10::IValue> x = a.toList(), y = b.toList();
        if (x.size() != y.size())
            return false;
        for (size_t i = 0; i < x.size(); i++)
            if (!same_ivalue(x.get(i), y.get(i)))
                return false;
        return true;
    }
    if (a.isTuple()) {
        const auto &x = a.toTupleRef().elements(), &y = b.toTupleRef().elements();
        if (x.size() != y.size())
            return false;
        for (size_t i = 0; i < x.size(); i++)
            if (!same_ivalue(x[i], y[i]))
                return false;
        return true;
    }
    return false;
}

bool same_attributes(const Node *a, const Node *b)
{
    std::vector<c10::Symbol> names = a->attributeNames();
    if (names != b->attributeNames())
        return false;
    using K = torch::jit::AttributeKind;
    for (c10::Symbol name : names) {
        K kind = a->kindOf(name);
        if (kind != b->kindOf(name))
            return false;
        switch (kind) {
        case K::i:
            if (a->i(name) != b->i(name))
                return false;
            break;
        case K::is:
            if (a->is(name) != b->is(name))
                return false;
            break;
        case K::f: {
            double x = a->f(name), y = b->f(name);
            if (!same_bits(&x, &y, sizeof x))
                return false;
            break;
        }
        case K::fs: {
            const std::vector<double> &x = a->fs(name), &y = b->fs(name);
            if (x.size() != y.size() || !same_bits(x.data(), y.data(), x.size() * sizeof(double)))
                return false;
            break;
        }
        case K::s:
            if (a->s(name) != b->s(name))
                return false;
            break;
        case K::ss:
            if (a->ss(name) != b->ss(name))
                return false;
            break;
        case K::t:
            if (!same_tensor(a->t(name), b->t(name)))
                return false;
            break;
        case K::ts: {
            const std::vector<at::Tensor> &x = a->ts(name), &y = b->ts(name);
            if (x.size() != y.size())
                return false;
            for (size_t i = 0; i < x.size(); i++)
                if (!same_tensor(x[i], y[i]))
                    return false;
            break;
        }
        case K::ival:
            if (!same_ivalue(a->ival(name), b->ival(name)))
                return false;
            break;
        default: // subgraphs, types, complex numbers: not expected here
            return false;
        }
    }
    return true;
}

class Matcher {
public:
    explicit Matcher(std::string *why) : why_(why) {}

    bool blocks(const Block *a, const Block *b)
    {
        if (!values(a->inputs(), b->inputs(), /*define=*/true, "block inputs"))
            return false;
        std::vector<const Node *> xs, ys;
        for (const Node *n : a->nodes())
            if (!is_constant(n))
                xs.push_back(n);
        for (const Node *n : b->nodes())
            if (!is_constant(n))
                ys.push_back(n);
        if (xs.size() != ys.size())
            return fail("the number of operators differs");
        for (size_t i = 0; i < xs.size(); i++)
            if (!node(xs[i], ys[i]))
                return false;
        return values(a->outputs(), b->outputs(), /*define=*/false, "block outputs");
    }

private:
    bool fail(const std::string &what)
    {
        if (why_ && why_->empty())
            *why_ = what;
        return false;
    }

    bool node(const Node *a, const Node *b)
    {
        std::string at = std::string(a->kind().toQualString());
        if (a->kind() != b->kind())
            return fail(at + " where the other has " + b->kind().toQualString());
        if (!same_attributes(a, b))
            return fail(at + ": attributes differ");
        if (!values(a->inputs(), b->inputs(), /*define=*/false, at + " inputs"))
            return false;
        if (a->blocks().size() != b->blocks().size())
            return fail(at + ": blocks differ");
        for (size_t i = 0; i < a->blocks().size(); i++)
            if (!blocks(a->blocks()[i], b->blocks()[i]))
                return false;
        return values(a->outputs(), b->outputs(), /*define=*/true, at + " outputs");
    }

    // define: the values are new (outputs, block inputs) and get the same
    // number; else each must match: the same number, or equal constants.
    bool values(c10::ArrayRef<const Value *> a, c10::ArrayRef<const Value *> b, bool define,
                const std::string &where)
    {
        if (a.size() != b.size())
            return fail(where + ": counts differ");
        for (size_t i = 0; i < a.size(); i++) {
            if (define) {
                ids_a_[a[i]] = next_;
                ids_b_[b[i]] = next_++;
                continue;
            }
            const Node *x = a[i]->node(), *y = b[i]->node();
            if (is_constant(x) || is_constant(y)) {
                if (x->kind() != y->kind())
                    return fail(where + ": a constant against a computed value");
                bool same;
                if (x->kind() == c10::prim::ConstantMKLDNNTensor) {
                    same = same_tensor(x->t(c10::attr::value), y->t(c10::attr::value));
                } else {
                    c10::optional<c10::IValue> u = torch::jit::toIValue(a[i]),
                                               v = torch::jit::toIValue(b[i]);
                    same = u && v && same_ivalue(*u, *v);
                }
                if (!same)
                    return fail(where + ": constants differ");
                continue;
            }
            auto u = ids_a_.find(a[i]), v = ids_b_.find(b[i]);
            if (u == ids_a_.end() || v == ids_b_.end() || u->second != v->second)
                return fail(where + ": wired differently");
        }
        return true;
    }

    std::string *why_;
    std::unordered_map<const Value *, size_t> ids_a_, ids_b_;
    size_t next_ = 0;
};

} // namespace

bool same_computation(const torch::jit::Graph &a, const torch::jit::Graph &b, std::string *why)
{
    Matcher m(why);
    return m.blocks(a.block(), b.block());
}

} // namespace ic_graph
