/* Internal, engine module only (C++): lets torch::jit::load read an archive
 * straight from a caller's buffer, without copying it into a stream. */
#ifndef IMGCLASS_ENGINE_MEMORY_READER_H
#define IMGCLASS_ENGINE_MEMORY_READER_H

#ifdef __cplusplus

#include <caffe2/serialize/read_adapter_interface.h>

#include <cstring>

class MemoryReadAdapter : public caffe2::serialize::ReadAdapterInterface {
public:
    MemoryReadAdapter(const void *data, size_t size)
        : data_(static_cast<const char *>(data)), size_(size) {}
    size_t size() const override { return size_; }
    size_t read(uint64_t pos, void *buf, size_t n, const char *) const override
    {
        if (pos >= size_)
            return 0;
        if (n > size_ - pos)
            n = size_ - pos;
        std::memcpy(buf, data_ + pos, n);
        return n;
    }

private:
    const char *data_;
    size_t size_;
};

#endif
#endif
