/*
 * imgclass.h - embeddable image-classification inference.
 *
 * The whole public API of libimgclass. C99, usable from C++; it exposes no
 * libtorch, libjpeg or stb types.
 *
 * Conventions (in the style of sqlite3.h, zlib.h and llama.h):
 *  - Handles are opaque. Every handle has a *_free() function and
 *    *_free(NULL) is a no-op.
 *  - Every fallible call returns an imgclass_status: IMGCLASS_OK (0) on
 *    success, a negative code on failure. On failure the calling thread's
 *    imgclass_last_error() holds a message naming the file or buffer and the
 *    reason; out-parameters are left untouched or set to NULL, never to a
 *    half-built object.
 *  - Compatibility (docs/design.md, "ABI: how the structs grow"). Every
 *    struct that crosses the API, except imgclass_class, starts with
 *    `size_t struct_size`: sizeof the struct as the CALLER was compiled.
 *    Fields are only ever appended. Fill an options struct with
 *    imgclass_X_options_init(&o, sizeof o), which writes the defaults into
 *    exactly that many bytes (or with imgclass_X_options_default(), an
 *    inline function compiled into the caller that does the same), then
 *    set the fields you care about. Structs never nest by value: options
 *    point at other options.
 *    The library reads and writes a caller's struct only as far as its
 *    struct_size goes:
 *     - an OLDER caller's smaller struct is read as far as it goes; the
 *       fields it lacks take their defaults;
 *     - a NEWER caller's larger struct is accepted when every byte past
 *       the fields this library knows is 0 (the newer fields left as
 *       imgclass_X_options_init() of this library zero-filled them), and
 *       refused otherwise with IMGCLASS_ERR_INVALID_ARGUMENT and a message
 *       naming the struct, both sizes and "needs a newer libimgclass than
 *       <this version>";
 *     - a struct_size of 0 (a zero-initialised struct) or below the
 *       struct's size in 0.2.0 is refused (IMGCLASS_ERR_INVALID_ARGUMENT).
 *    Arrays of structs (imgclass_input) are strided by the first element's
 *    struct_size. A NULL options pointer means the defaults.
 *    The structs the library reads have no trailing padding (sizeof ends
 *    at the last field, test/unit/test_layout.c checks it), and a field is
 *    appended only so that this stays true: padding is not preserved by
 *    struct assignment, so it could hold bytes the rule above refuses.
 *  - The library never prints, never calls exit() or abort(), and checks
 *    every allocation.
 *  - Thread-safety is stated next to each function. In short: functions that
 *    take only const handles are safe to call from many threads at once on
 *    the same handle; functions that take a non-const handle must not race
 *    with any other use of that handle.
 */
#ifndef IMGCLASS_H
#define IMGCLASS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(IMGCLASS_BUILD) && defined(__GNUC__)
#define IMGCLASS_API __attribute__((visibility("default")))
#else
#define IMGCLASS_API
#endif

/* Marks a name kept for old source; the compiler warns, naming the
 * replacement. */
#if defined(__GNUC__) || defined(__clang__)
#define IMGCLASS_DEPRECATED(hint) __attribute__((deprecated(hint)))
#elif defined(_MSC_VER)
#define IMGCLASS_DEPRECATED(hint) __declspec(deprecated(hint))
#else
#define IMGCLASS_DEPRECATED(hint)
#endif

/* Test-only (test/integration/abi_grow.sh): one field appended to every
 * growable struct, to build a "later" library and header. 8 bytes, so no
 * struct gains padding (see "Compatibility": no trailing padding). */
#ifdef IMGCLASS_TEST_GROW_STRUCTS
#define IMGCLASS_GROWN_FIELD uint64_t test_grown;
#else
#define IMGCLASS_GROWN_FIELD
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/* The project's one statement of its version: the Makefile (soname, pkg-config,
 * packages), the Python binding and its pyproject read these lines. */
#define IMGCLASS_VERSION_MAJOR 0
#define IMGCLASS_VERSION_MINOR 2
#define IMGCLASS_VERSION_PATCH 0
/* The number of the soname, libimgclass.so.N: raised by an ABI break (0.2.0:
 * nested options by pointer, see CHANGELOG.md). */
#define IMGCLASS_SOVERSION 1
#define IMGCLASS_STRINGIFY_(x) #x
#define IMGCLASS_STRINGIFY(x) IMGCLASS_STRINGIFY_(x)
#define IMGCLASS_VERSION                                                              \
    IMGCLASS_STRINGIFY(IMGCLASS_VERSION_MAJOR) "." IMGCLASS_STRINGIFY(IMGCLASS_VERSION_MINOR) "." \
        IMGCLASS_STRINGIFY(IMGCLASS_VERSION_PATCH)
/* MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons. */
#define IMGCLASS_VERSION_NUMBER \
    (IMGCLASS_VERSION_MAJOR * 10000 + IMGCLASS_VERSION_MINOR * 100 + IMGCLASS_VERSION_PATCH)

/* The version of the library actually linked, e.g. "0.2.0". Static string;
 * thread-safe. Compare with IMGCLASS_VERSION to detect header/library skew. */
IMGCLASS_API const char *imgclass_version(void);

/* The version of the library actually linked as a number,
 * IMGCLASS_VERSION_NUMBER of its header (0.2.0 gives 200). Thread-safe.
 * A program can refuse a library older than the header it was built with:
 * `if (imgclass_version_number() < IMGCLASS_VERSION_NUMBER) ...`. */
IMGCLASS_API int imgclass_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                  */
/* ------------------------------------------------------------------------ */

typedef enum imgclass_status {
    IMGCLASS_OK = 0,
    IMGCLASS_ERR_INVALID_ARGUMENT = -1, /* NULL pointer, bad size, bad option */
    IMGCLASS_ERR_OUT_OF_MEMORY = -2,    /* an allocation failed */
    IMGCLASS_ERR_IO = -3,               /* a file could not be opened or read */
    IMGCLASS_ERR_UNSUPPORTED = -4,      /* format or feature not supported */
    IMGCLASS_ERR_CORRUPT = -5,          /* data is truncated or malformed */
    IMGCLASS_ERR_TOO_LARGE = -6,        /* over the pixel limit or a size limit */
    IMGCLASS_ERR_MODEL = -7,            /* not a usable model, or wrong shapes */
    IMGCLASS_ERR_LABELS = -8,           /* labels unreadable or count mismatch */
    IMGCLASS_ERR_DEVICE = -9,           /* requested device not available */
    IMGCLASS_ERR_ENGINE = -10,          /* the inference engine failed */
    IMGCLASS_ERR_BUSY = -11,            /* a queue is full and the call asked not to wait */
    IMGCLASS_ERR_CLOSED = -12           /* the object is shutting down; nothing is accepted */
} imgclass_status;

/* A short constant description of a status code ("corrupt data", ...).
 * Never NULL; unknown codes give "unknown status". Thread-safe. */
IMGCLASS_API const char *imgclass_status_str(imgclass_status status);

/* The message of the last failed call made by the calling thread, e.g.
 * "photo.jpg: corrupt data: premature end of JPEG file". Thread-local: each
 * thread sees only its own errors. The pointer stays valid until the next
 * imgclass call on the same thread. Never NULL ("" when there was no error).
 * Successful calls do not clear it. */
IMGCLASS_API const char *imgclass_last_error(void);

/* ------------------------------------------------------------------------ */
/* Images                                                                   */
/* ------------------------------------------------------------------------ */

/* An image in memory: decoded pixels (always 8-bit RGB, as Pillow's
 * convert("RGB") produces them) or caller pixels wrapped without decoding.
 * Immutable once created: any number of threads may read one image at once
 * (preprocess it, query it). */
typedef struct imgclass_image imgclass_image;

/* Layouts of 8-bit interleaved pixels accepted by imgclass_image_wrap(). */
typedef enum imgclass_pixel_format {
    IMGCLASS_PIXEL_RGB = 0,  /* R,G,B */
    IMGCLASS_PIXEL_BGR = 1,  /* B,G,R (OpenCV's default) */
    IMGCLASS_PIXEL_RGBA = 2, /* R,G,B,A; alpha is dropped, not composited */
    IMGCLASS_PIXEL_BGRA = 3, /* B,G,R,A; alpha is dropped */
    IMGCLASS_PIXEL_GRAY = 4, /* one byte, replicated to R=G=B */
    /* 8-bit YUV 4:2:0 camera frames, made only by imgclass_image_wrap_yuv()
     * (planar: imgclass_image_wrap() refuses them). */
    IMGCLASS_PIXEL_NV12 = 5, /* Y plane, then interleaved U,V (V4L2, MediaCodec) */
    IMGCLASS_PIXEL_NV21 = 6, /* Y plane, then interleaved V,U (Android camera) */
    IMGCLASS_PIXEL_I420 = 7, /* Y, U, V planes (also called IYUV, YUV420p) */
    IMGCLASS_PIXEL_YV12 = 8  /* Y, V, U planes */
} imgclass_pixel_format;

/* Bytes per pixel of an interleaved format (3, 3, 4, 4, 1), or 0 for an
 * unknown or a planar YUV format. */
IMGCLASS_API int imgclass_pixel_format_bytes(imgclass_pixel_format format);

/* Default: Pillow's Image.MAX_IMAGE_PIXELS. */
#define IMGCLASS_DEFAULT_MAX_PIXELS 89478485ULL
/* Defaults of the other decode limits (see imgclass_decode_options); with
 * them, no input makes a decode hold more than about 512 MiB. */
#define IMGCLASS_DEFAULT_MAX_FILE_BYTES (64ULL << 20)
#define IMGCLASS_DEFAULT_MAX_DECODE_MEMORY (384ULL << 20)
#define IMGCLASS_DEFAULT_MAX_JPEG_SCANS 100

typedef struct imgclass_decode_options {
    size_t struct_size; /* set by imgclass_decode_options_init() (see "Compatibility") */
    /* Images with more pixels (width * height) than this are refused with
     * IMGCLASS_ERR_TOO_LARGE, checked from the header before any large
     * allocation. 0 means no limit (only for trusted input).
     * Default IMGCLASS_DEFAULT_MAX_PIXELS. */
    uint64_t max_pixels;
    /* The most bytes read from a file, pipe or device by the *_load /
     * *_file calls, checked while reading (a pipe or /dev/zero stops at the
     * limit with IMGCLASS_ERR_TOO_LARGE; nothing larger is allocated).
     * 0 means no limit. Default IMGCLASS_DEFAULT_MAX_FILE_BYTES. */
    uint64_t max_file_bytes;
    /* The most memory, in bytes, a decoder may hold at once for one image
     * (its output pixels included; a zlib stream that inflates past what
     * the header's dimensions allow is refused long before this). Over it:
     * IMGCLASS_ERR_TOO_LARGE. 0 means no limit. Default
     * IMGCLASS_DEFAULT_MAX_DECODE_MEMORY. */
    uint64_t max_decode_memory;
    /* The most scans a progressive JPEG may have (each scan is a pass over
     * the whole image, so a small file of thousands of scans costs minutes
     * of CPU). Pillow has no such limit: here imgclass knowingly refuses
     * what Pillow accepts (IMGCLASS_ERR_TOO_LARGE). 0 means no limit.
     * Default IMGCLASS_DEFAULT_MAX_JPEG_SCANS. */
    int max_jpeg_scans;
    /* 1: apply the image's EXIF orientation (tags 2-8) after decoding,
     * exactly as Pillow 9.4's ImageOps.exif_transpose(), so the result and
     * everything preprocessed from it equals that pipeline. Read from JPEG
     * (APP1 Exif) and PNG (eXIf); docs/preprocessing.md says what else is
     * not covered. An absent, malformed or out-of-range tag leaves the
     * image as it is (not an error). A rotated image is decoded whole (the
     * JPEG region and DCT-scaling shortcuts are skipped for it), and a
     * rotation (5-8) holds the image twice, within max_decode_memory.
     * Default 0: pixels as stored, as Pillow's Image.open(). */
    int exif_transpose;
    IMGCLASS_GROWN_FIELD
} imgclass_decode_options;

/* Writes the defaults into the `size` bytes at `opts` (size: sizeof *opts
 * as the caller was compiled; bytes past this library's fields are set to
 * 0). IMGCLASS_ERR_INVALID_ARGUMENT for NULL or a size below 0.2.0's.
 * Thread-safe. The other *_init() functions below work the same way. */
IMGCLASS_API imgclass_status imgclass_decode_options_init(imgclass_decode_options *opts, size_t size);

/* The defaults by value, filled with the caller's own sizeof (inline: it
 * is compiled into the caller, so a later library never writes past it). */
static inline imgclass_decode_options imgclass_decode_options_default(void)
{
    imgclass_decode_options o; /* _init() zero-fills it all */
    imgclass_decode_options_init(&o, sizeof o);
    return o;
}

/* Decodes the image file at `path` (JPEG, PNG, BMP, GIF first frame, TGA,
 * PNM, PSD; recognised by content, not by name) into 8-bit RGB exactly as
 * Pillow's Image.open(path).convert("RGB"). `options` may be NULL for the
 * defaults. On success *out owns a new image; free it with
 * imgclass_image_free(). Thread-safe (no shared state).
 * `path` may name a pipe or another file that is not regular: it is read
 * to its end, up to max_file_bytes. Opening a FIFO that no process writes
 * to blocks, as open(2) does for any reader (docs/hostile-input.md). */
IMGCLASS_API imgclass_status imgclass_image_load(const char *path,
                                                 const imgclass_decode_options *options,
                                                 imgclass_image **out);

/* As imgclass_image_load(), from `size` bytes at `data`. The buffer is only
 * read during the call; the caller keeps ownership. Error messages name it
 * "memory buffer". Thread-safe. */
IMGCLASS_API imgclass_status imgclass_image_load_memory(const void *data, size_t size,
                                                        const imgclass_decode_options *options,
                                                        imgclass_image **out);

/* Image file formats, as recognised by content (never by name). */
typedef enum imgclass_file_format {
    IMGCLASS_FILE_UNKNOWN = 0, /* nothing imgclass decodes */
    IMGCLASS_FILE_JPEG = 1,
    IMGCLASS_FILE_PNG = 2,
    IMGCLASS_FILE_BMP = 3,
    IMGCLASS_FILE_GIF = 4,
    IMGCLASS_FILE_TGA = 5,
    IMGCLASS_FILE_PNM = 6, /* binary PGM/PPM (P5/P6); text P1-P4 is refused */
    IMGCLASS_FILE_PSD = 7
} imgclass_file_format;

/* "JPEG", "PNG", "BMP", "GIF", "TGA", "PNM", "PSD"; "unknown" for
 * IMGCLASS_FILE_UNKNOWN or any other value. Static string; thread-safe. */
IMGCLASS_API const char *imgclass_file_format_name(imgclass_file_format format);

/* What imgclass_image_probe() learns from a header. */
typedef struct imgclass_image_info {
    /* Set by the caller: sizeof(imgclass_image_info). The library writes
     * only that many bytes (fields it does not know are set to 0). */
    size_t struct_size;
    imgclass_file_format format;
    /* As decoded (before any preprocessing): with exif_transpose set in the
     * options, after the EXIF rotation (swapped for orientations 5-8). */
    int width;
    int height;
    /* The EXIF orientation the file carries, 1-8, whether or not
     * exif_transpose is set; 0 when it has none, or an unreadable or
     * out-of-range one (JPEG and PNG only; a PNG eXIf chunk past the
     * prefix read is not seen). */
    int orientation;
    IMGCLASS_GROWN_FIELD
} imgclass_image_info;

/* The format, width and height of the image file at `path`, from its
 * header alone: no pixels are decoded, and only a bounded prefix of the
 * file is read (64 KiB, more only when the header runs past it, as a JPEG
 * with large metadata segments can; never more than max_file_bytes). The
 * same checks and errors as imgclass_image_load() make from the header:
 * an unsupported format (text PNM, a PSD with alpha) is
 * IMGCLASS_ERR_UNSUPPORTED, a malformed or truncated header
 * IMGCLASS_ERR_CORRUPT, an image over max_pixels (or one whose decode
 * would exceed max_decode_memory, or a regular file over max_file_bytes)
 * IMGCLASS_ERR_TOO_LARGE. A probe that succeeds does not promise that the
 * decode will: the body is not read (it may be truncated or corrupt).
 * `options` may be NULL for the defaults. On failure *info is untouched.
 * Thread-safe. */
IMGCLASS_API imgclass_status imgclass_image_probe(const char *path,
                                                  const imgclass_decode_options *options,
                                                  imgclass_image_info *info);

/* As imgclass_image_probe(), from `size` bytes at `data` (a whole file or
 * any prefix that holds the header). Errors name it "memory buffer". */
IMGCLASS_API imgclass_status imgclass_image_probe_memory(const void *data, size_t size,
                                                         const imgclass_decode_options *options,
                                                         imgclass_image_info *info);

/* Wraps caller pixels (camera frames, OpenCV mats) without decoding.
 * `stride` is the distance in bytes between the starts of two rows; 0 means
 * tightly packed (width * bytes per pixel). With copy != 0 the pixels are
 * copied and the caller may free them at once. With copy == 0 the image
 * borrows them: they must stay valid and unchanged until the image is
 * freed. Preprocessing converts the format on the fly; no RGB copy is made.
 * Thread-safe. */
IMGCLASS_API imgclass_status imgclass_image_wrap(const void *pixels, int width, int height,
                                                 size_t stride, imgclass_pixel_format format,
                                                 int copy, imgclass_image **out);

/* The colour matrix and range of a YUV frame. */
typedef enum imgclass_yuv_matrix {
    IMGCLASS_YUV_BT601 = 0, /* SD video, most cameras and JPEG-style pipelines */
    IMGCLASS_YUV_BT709 = 1  /* HD video */
} imgclass_yuv_matrix;

typedef enum imgclass_yuv_range {
    IMGCLASS_YUV_LIMITED = 0, /* "video" range: Y 16..235, U/V 16..240 */
    IMGCLASS_YUV_FULL = 1     /* "JPEG" range: 0..255 */
} imgclass_yuv_range;

/* A YUV 4:2:0 frame: one chroma sample per 2 x 2 pixels. Chroma planes are
 * ceil(width / 2) x ceil(height / 2) samples (odd sizes allowed: the last
 * column / row of pixels uses the last chroma sample, as V4L2 and libyuv
 * lay it out). */
typedef struct imgclass_yuv_frame {
    size_t struct_size; /* set by imgclass_yuv_frame_init() (see "Compatibility") */
    imgclass_pixel_format layout; /* IMGCLASS_PIXEL_NV12, NV21, I420 or YV12 */
    int width, height;            /* in pixels (the Y plane's size) */
    /* The planes in the layout's storage order: planes[0] is Y; NV12/NV21:
     * planes[1] the interleaved chroma plane (planes[2] unused); I420:
     * planes[1] U, planes[2] V; YV12: planes[1] V, planes[2] U. So for one
     * contiguous buffer, each plane starts where the previous one ends. */
    const uint8_t *planes[3];
    /* Bytes between row starts of each plane; 0 means tightly packed
     * (width for Y, 2 * ceil(width / 2) for NV chroma, ceil(width / 2) for
     * I420/YV12 chroma). */
    size_t strides[3];
    imgclass_yuv_matrix matrix;   /* default IMGCLASS_YUV_BT601 */
    imgclass_yuv_range range;     /* default IMGCLASS_YUV_LIMITED */
    IMGCLASS_GROWN_FIELD
} imgclass_yuv_frame;

/* NV12, BT.601, limited range, no planes: set layout (if not NV12), size,
 * planes and strides. As imgclass_decode_options_init(). */
IMGCLASS_API imgclass_status imgclass_yuv_frame_init(imgclass_yuv_frame *frame, size_t size);

static inline imgclass_yuv_frame imgclass_yuv_frame_default(void)
{
    imgclass_yuv_frame f; /* _init() zero-fills it all */
    imgclass_yuv_frame_init(&f, sizeof f);
    return f;
}

/* Wraps a YUV 4:2:0 frame as an image. Preprocessing converts it to RGB
 * row by row as it reads it (no full-size RGB copy), with the fixed-point
 * arithmetic of OpenCV's cvtColor: BT.601 limited range gives the same RGB
 * bytes as cv2.cvtColor(frame, COLOR_YUV2RGB_NV12 / _NV21 / _I420 / _YV12).
 * OpenCV has no BT.709 or full-range 4:2:0 conversion; those use the same
 * arithmetic with the exact coefficients of the standard
 * (docs/preprocessing.md). copy and ownership as imgclass_image_wrap(): with
 * copy != 0 all planes are copied; with copy == 0 they are borrowed and
 * must outlive the image. imgclass_image_pixels() gives the Y plane.
 * Errors (IMGCLASS_ERR_INVALID_ARGUMENT): a refused struct_size, a NULL
 * plane, a layout that is not
 * YUV, a non-positive size, a stride below the row's bytes, an unknown
 * matrix or range. Thread-safe. */
IMGCLASS_API imgclass_status imgclass_image_wrap_yuv(const imgclass_yuv_frame *frame, int copy,
                                                     imgclass_image **out);

IMGCLASS_API int imgclass_image_width(const imgclass_image *image);   /* 0 for NULL */
IMGCLASS_API int imgclass_image_height(const imgclass_image *image);  /* 0 for NULL */
IMGCLASS_API imgclass_pixel_format imgclass_image_format(const imgclass_image *image);
/* The first pixel row and the row stride in bytes. Valid while the image
 * lives. NULL for NULL. */
IMGCLASS_API const uint8_t *imgclass_image_pixels(const imgclass_image *image, size_t *stride);

/* Frees an image (and its pixels if it owns them). NULL is a no-op. */
IMGCLASS_API void imgclass_image_free(imgclass_image *image);

/* ------------------------------------------------------------------------ */
/* Batches: N x 3 x H x W float32 tensors                                   */
/* ------------------------------------------------------------------------ */

/* A batch of `count` images as one C-contiguous float32 tensor of shape
 * [count, 3, height, width] (NCHW, what TorchScript ImageNet models take).
 * Either allocated by the library or wrapping caller memory. Distinct slots
 * may be written by different threads at once; anything else on one batch
 * must not race with a write. */
typedef struct imgclass_batch imgclass_batch;

/* Allocates a zero-filled batch (64-byte aligned). */
IMGCLASS_API imgclass_status imgclass_batch_create(size_t count, int height, int width,
                                                   imgclass_batch **out);

/* Wraps caller memory of at least count * 3 * height * width floats. The
 * caller keeps ownership; `data` must outlive the batch. */
IMGCLASS_API imgclass_status imgclass_batch_wrap(float *data, size_t count, int height, int width,
                                                 imgclass_batch **out);

IMGCLASS_API size_t imgclass_batch_count(const imgclass_batch *batch);
IMGCLASS_API int imgclass_batch_height(const imgclass_batch *batch);
IMGCLASS_API int imgclass_batch_width(const imgclass_batch *batch);
/* The tensor data; slot i starts at data + i * 3 * height * width. */
IMGCLASS_API float *imgclass_batch_data(imgclass_batch *batch);
IMGCLASS_API const float *imgclass_batch_data_const(const imgclass_batch *batch);

/* Frees the batch (and its data if the library allocated it). NULL is a
 * no-op. */
IMGCLASS_API void imgclass_batch_free(imgclass_batch *batch);

/* ------------------------------------------------------------------------ */
/* Preprocessing                                                            */
/* ------------------------------------------------------------------------ */

typedef enum imgclass_resize_mode {
    /* Shorter side to `resize_size`, longer side floor(size * long / short),
     * as torchvision Resize(int). */
    IMGCLASS_RESIZE_SHORTER = 0,
    /* Exactly resize_width x resize_height, as Resize((h, w)) (the Deep Java
     * Library's ResNet-18 zoo model uses 256 x 256). */
    IMGCLASS_RESIZE_EXACT = 1,
    /* No resize. */
    IMGCLASS_RESIZE_NONE = 2
} imgclass_resize_mode;

/* The resampling filter of the resize, as Pillow's Image.resize() with
 * antialiasing (the filter widens with the downscale factor), both
 * bit-exact with Pillow 9.4. */
typedef enum imgclass_interpolation {
    IMGCLASS_INTERP_BILINEAR = 0, /* PIL.Image.BILINEAR, torchvision's default */
    IMGCLASS_INTERP_BICUBIC = 1   /* PIL.Image.BICUBIC: cubic convolution, a = -0.5 */
} imgclass_interpolation;

typedef struct imgclass_preprocess_options {
    size_t struct_size; /* set by imgclass_preprocess_options_init() (see "Compatibility") */
    imgclass_resize_mode resize_mode; /* default IMGCLASS_RESIZE_SHORTER */
    int resize_size;                  /* SHORTER: target shorter side; default 256 */
    int resize_width;                 /* EXACT: target size; default 256 x 256 */
    int resize_height;
    /* CenterCrop(crop_height, crop_width) with torchvision's rounding; a crop
     * larger than the image pads with zeros as torchvision does. 0 x 0 means
     * no crop, allowed only where the output size does not depend on the
     * image (EXACT resize). Default 224 x 224. */
    int crop_width;
    int crop_height;
    /* Normalize(mean, std) after ToTensor's division by 255. Default the
     * ImageNet values {0.485, 0.456, 0.406} / {0.229, 0.224, 0.225}. */
    float mean[3];
    float std[3];
    /* 0 (default): exact, the same float32 bits as torchvision + Pillow.
     * 1: allow faster, inexact shortcuts where they exist (JPEG decoding at
     * reduced DCT scale, as Pillow's draft()); see docs/preprocessing.md for
     * the measured error. Affects only the *_file / *_memory calls, which
     * decode. */
    int fast;
    /* The resize filter; default IMGCLASS_INTERP_BILINEAR. Ignored by
     * IMGCLASS_RESIZE_NONE and by an axis whose size does not change
     * (Pillow skips it too). */
    imgclass_interpolation interpolation;
    IMGCLASS_GROWN_FIELD
} imgclass_preprocess_options;

/* torchvision's ImageNet recipe: Resize(256), CenterCrop(224), ImageNet
 * mean/std, exact. As imgclass_decode_options_init(). */
IMGCLASS_API imgclass_status imgclass_preprocess_options_init(imgclass_preprocess_options *opts,
                                                              size_t size);
/* The Deep Java Library ResNet-18 zoo recipe: Resize((256, 256)),
 * CenterCrop(224), ImageNet mean/std, exact. As _init(). */
IMGCLASS_API imgclass_status imgclass_preprocess_options_init_djl(imgclass_preprocess_options *opts,
                                                                  size_t size);

static inline imgclass_preprocess_options imgclass_preprocess_options_default(void)
{
    imgclass_preprocess_options o; /* _init() zero-fills it all */
    imgclass_preprocess_options_init(&o, sizeof o);
    return o;
}

static inline imgclass_preprocess_options imgclass_preprocess_options_djl(void)
{
    imgclass_preprocess_options o; /* _init() zero-fills it all */
    imgclass_preprocess_options_init_djl(&o, sizeof o);
    return o;
}

/* The output height and width these options give for an image of
 * width x height. Fails with IMGCLASS_ERR_INVALID_ARGUMENT on inconsistent
 * options (non-positive sizes, std of 0, ...). Thread-safe. */
IMGCLASS_API imgclass_status imgclass_preprocess_output_size(const imgclass_preprocess_options *options,
                                                             int image_width, int image_height,
                                                             int *out_height, int *out_width);

/* Resizes, crops and normalises `image` and writes it as CHW float32 into
 * slot `index` of `batch`. The output size must equal the batch's height and
 * width (IMGCLASS_ERR_INVALID_ARGUMENT otherwise). `options` may be NULL for
 * the defaults. Allocates only small per-call scratch memory. Thread-safe:
 * several threads may preprocess into distinct slots of one batch at once. */
IMGCLASS_API imgclass_status imgclass_preprocess(const imgclass_image *image,
                                                 const imgclass_preprocess_options *options,
                                                 imgclass_batch *batch, size_t index);

/* Decode + preprocess in one call, from a file. Equal in output to
 * imgclass_image_load() followed by imgclass_preprocess(), but faster: for
 * JPEG only the region of the image that survives the crop is decoded
 * (still bit-exact). With options->fast it may also decode at reduced
 * DCT scale. `decode_options` and `options` may be NULL. Thread-safe as
 * imgclass_preprocess(). */
IMGCLASS_API imgclass_status imgclass_preprocess_file(const char *path,
                                                      const imgclass_decode_options *decode_options,
                                                      const imgclass_preprocess_options *options,
                                                      imgclass_batch *batch, size_t index);

/* As imgclass_preprocess_file(), from a memory buffer the caller keeps. */
IMGCLASS_API imgclass_status imgclass_preprocess_memory(const void *data, size_t size,
                                                        const imgclass_decode_options *decode_options,
                                                        const imgclass_preprocess_options *options,
                                                        imgclass_batch *batch, size_t index);

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

/* A loaded classifier (a TorchScript module) with optional labels.
 * Once loaded and its labels set, a model is read-only: any number of
 * threads may call imgclass_predict() / imgclass_classify() / the queries on
 * one model at once. */
typedef struct imgclass_model imgclass_model;

/* Engine optimisation flags for imgclass_model_options.optimize. */
#define IMGCLASS_OPTIMIZE_FREEZE 0x1u             /* torch.jit.freeze */
#define IMGCLASS_OPTIMIZE_FOR_INFERENCE 0x2u      /* torch.jit.optimize_for_inference */
#define IMGCLASS_OPTIMIZE_CHANNELS_LAST 0x4u      /* NHWC memory format for the input */
/* Deprecated: use imgclass_model_options.precision = IMGCLASS_PRECISION_BF16
 * (docs/engine.md, "Header notes"). bfloat16 weights/compute, inexact. */
#define IMGCLASS_OPTIMIZE_BFLOAT16 0x8u
/* An int8 model's input quantized by imgclass (bit for bit torch's values)
 * in place of the graph's first quantize_per_tensor node (why:
 * docs/engine.md, "Header notes"). Applies when the graph's input feeds only
 * that node with constant parameters; skipped otherwise and for float
 * models. */
#define IMGCLASS_OPTIMIZE_QUANTIZE_INPUT 0x10u
/* The default set, chosen by measurement on ResNet-18 (docs/engine.md). */
#define IMGCLASS_OPTIMIZE_DEFAULT \
    (IMGCLASS_OPTIMIZE_FREEZE | IMGCLASS_OPTIMIZE_FOR_INFERENCE | IMGCLASS_OPTIMIZE_QUANTIZE_INPUT)
/* Deprecated: the flags' first names, which read as "options". Same
 * values; new code uses IMGCLASS_OPTIMIZE_*. */
#define IMGCLASS_OPT_FREEZE IMGCLASS_OPTIMIZE_FREEZE
#define IMGCLASS_OPT_FOR_INFERENCE IMGCLASS_OPTIMIZE_FOR_INFERENCE
#define IMGCLASS_OPT_CHANNELS_LAST IMGCLASS_OPTIMIZE_CHANNELS_LAST
#define IMGCLASS_OPT_BFLOAT16 IMGCLASS_OPTIMIZE_BFLOAT16
#define IMGCLASS_OPT_DEFAULT IMGCLASS_OPTIMIZE_DEFAULT

/* The arithmetic a float model runs in (imgclass_model_options.precision).
 * An int8 (quantized) file runs int8 whatever is asked. */
typedef enum imgclass_precision {
    IMGCLASS_PRECISION_FLOAT32 = 0, /* float32 weights and compute: exact (the default) */
    IMGCLASS_PRECISION_BF16 = 1     /* bfloat16 weights and compute: faster, inexact */
} imgclass_precision;

#define IMGCLASS_DEFAULT_MAX_MODEL_BYTES (4ULL << 30)
#define IMGCLASS_DEFAULT_MAX_GZIP_RATIO 32u

typedef struct imgclass_model_options {
    size_t struct_size; /* set by imgclass_model_options_init() (see "Compatibility") */
    /* "cpu" (default), "cuda" or "cuda:N". A device libtorch cannot use is
     * an error (IMGCLASS_ERR_DEVICE), never a silent fallback to the CPU. */
    const char *device;
    /* Input tensor size the model is run with. Height and width 0 x 0
     * (the default) take the size the model's recipe produces (its crop,
     * see imgclass_model_preprocess_options()), or 224 x 224 for a model
     * without a recipe; read the result with imgclass_model_input_size().
     * Default channels 3. */
    int input_channels;
    int input_height;
    int input_width;
    /* Apply softmax to the outputs (default 1); 0 gives raw logits. */
    int softmax;
    /* IMGCLASS_OPTIMIZE_* flags; default IMGCLASS_OPTIMIZE_DEFAULT. */
    unsigned optimize;
    /* Forward passes run at load time after the one that checks the output
     * shape, so the first real call is not slow. Default 1. On a model-cache
     * hit the check itself runs at batch 1 and counts as the first. */
    int warmup_runs;
    /* Quantized engine for an int8 model: "onednn", "qnnpack" or "fbgemm";
     * NULL (default) chooses onednn where the CPU has AVX2 and this libtorch
     * has it, else qnnpack (docs/engine.md). An engine this libtorch lacks is
     * IMGCLASS_ERR_UNSUPPORTED. The engine is process-wide in libtorch: while
     * a quantized model is loaded, another one asking for a different engine
     * is IMGCLASS_ERR_UNSUPPORTED (NULL takes the engine in use). Ignored
     * for float models. */
    const char *qengine;
    /* The largest model archive accepted, in bytes: the file as read (a
     * pipe stops at the limit) and its gzip inflation. 0 means no limit.
     * Default IMGCLASS_DEFAULT_MAX_MODEL_BYTES (4 GiB). */
    uint64_t max_model_bytes;
    /* A gzipped model may inflate to at most this many times its size
     * (plus 1 MiB), refused as soon as it passes: weights compress about
     * 1.1 times, a bomb of zeros 1000 times. 0 means no ratio limit.
     * Default IMGCLASS_DEFAULT_MAX_GZIP_RATIO. */
    unsigned max_gzip_ratio;
    /* IMGCLASS_PRECISION_FLOAT32 (default) or IMGCLASS_PRECISION_BF16: the
     * weights converted to bfloat16 at load (4-D ones, convolution
     * kernels, also to channels_last), each batch fed as bfloat16
     * channels_last, scores returned as float32 all the same. Inexact
     * (docs/engine.md, "Precision"). On the CPU it needs native bf16
     * arithmetic (x86: avx512_bf16 or amx_bf16; AArch64: bf16); without it
     * the load is refused with IMGCLASS_ERR_UNSUPPORTED naming the model
     * and the missing feature, never a silent float32 fallback. Ignored,
     * not refused, for an int8 model, which runs int8
     * (imgclass_model_precision() says "int8"). Another value is
     * IMGCLASS_ERR_INVALID_ARGUMENT. */
    imgclass_precision precision;
    /* The model cache's folder; NULL (default) or "": no cache. With one,
     * a load keeps the model as freezing left it (its archive compiled,
     * batch norms folded into the convolutions) in an entry of this folder,
     * keyed by the SHA-256 of the model's bytes, the options that shape it,
     * the imgclass and libtorch versions and the CPU's vector instructions;
     * a later load of the same keys starts from the entry, which spares it
     * about half of its own work (docs/engine.md, "Cold start"). The scores
     * are the same bits with or without the cache: an entry is written only
     * when the model it holds optimises to the same computation as the one
     * the load runs. A missing, damaged, truncated or foreign entry is
     * rebuilt; a folder that cannot be created or written leaves the load
     * uncached, never failed. The folder is created (mode 0700) when
     * missing; anyone who can write it can decide the answers of the models
     * loaded through it. imgclass_model_cache_state() says what a load did.
     * Quantized models and models not on the CPU are not cached. */
    const char *cache_dir;
    IMGCLASS_GROWN_FIELD
} imgclass_model_options;

/* As imgclass_decode_options_init(). */
IMGCLASS_API imgclass_status imgclass_model_options_init(imgclass_model_options *opts, size_t size);

static inline imgclass_model_options imgclass_model_options_default(void)
{
    imgclass_model_options o; /* _init() zero-fills it all */
    imgclass_model_options_init(&o, sizeof o);
    return o;
}

/* Loads a TorchScript archive (plain, or gzip-compressed as the Deep Java
 * Library ships traced_resnet18.pt.gz; recognised by content). Runs one
 * forward pass on a zero input to check that the output is N x K; a file
 * that is not a model, a corrupt archive or a wrong input size is an error
 * here, not later. `options` may be NULL. Thread-safe.
 * What the model's code prints (TorchScript print()) is discarded, never
 * written to standard output: the first load sets libtorch's process-wide
 * print handler to drop it, unless the host has set a handler of its own.
 *
 * The engine is a separate module (libimgclass-torch.so, which links
 * libtorch) that the first model load of the process dlopen()s, so programs
 * that only decode and preprocess never load libtorch. It is looked for in
 * $IMGCLASS_ENGINE_PATH (a file or a folder; when set, the only place), then
 * in $(libdir)/imgclass/ of the install, then in the build tree. When it is
 * missing, does not load (libtorch absent) or was built for another ABI,
 * the load fails with IMGCLASS_ERR_ENGINE and a message naming the module,
 * the reason and every place looked at; later loads search again.
 * `path` (and that of imgclass_model_load_labels()) may be a pipe, such
 * as a process substitution of zcat, read up to max_model_bytes; opening a
 * FIFO with no writer blocks, as for imgclass_image_load(). */
IMGCLASS_API imgclass_status imgclass_model_load(const char *path,
                                                 const imgclass_model_options *options,
                                                 imgclass_model **out);

/* As imgclass_model_load(), from a buffer the caller keeps. */
IMGCLASS_API imgclass_status imgclass_model_load_memory(const void *data, size_t size,
                                                        const imgclass_model_options *options,
                                                        imgclass_model **out);

/* Attaches labels: a text file with one label per line (ImageNet synset
 * lines such as "n01440764 tench, Tinca tinca" give id "n01440764" and label
 * "tench, Tinca tinca"; other lines are the label), or TorchServe's
 * index_to_name.json. Plain or gzip. A label count different from the
 * model's class count is IMGCLASS_ERR_LABELS naming both numbers. Replaces
 * earlier labels. NOT thread-safe: call before sharing the model. */
IMGCLASS_API imgclass_status imgclass_model_load_labels(imgclass_model *model, const char *path);
IMGCLASS_API imgclass_status imgclass_model_load_labels_memory(imgclass_model *model,
                                                               const void *data, size_t size);

/* Queries; thread-safe. */
IMGCLASS_API int imgclass_model_num_classes(const imgclass_model *model);
IMGCLASS_API void imgclass_model_input_size(const imgclass_model *model, int *channels,
                                            int *height, int *width);
/* "cpu", "cuda:0", ...; valid while the model lives. */
IMGCLASS_API const char *imgclass_model_device(const imgclass_model *model);
/* 1 when the model runs quantized (int8) operators, 0 for a float model or
 * NULL. */
IMGCLASS_API int imgclass_model_is_quantized(const imgclass_model *model);
/* The quantized engine running the model ("onednn", "qnnpack"), NULL for a
 * float model or NULL; static string. */
IMGCLASS_API const char *imgclass_model_qengine(const imgclass_model *model);
/* The precision the model runs in: "float32", "bf16" (precision
 * IMGCLASS_PRECISION_BF16, or the IMGCLASS_OPTIMIZE_BFLOAT16 flag) or
 * "int8" (a quantized file, whatever precision was asked). Static string;
 * NULL for NULL. */
IMGCLASS_API const char *imgclass_model_precision(const imgclass_model *model);
/* The IMGCLASS_OPTIMIZE_* flags applied at load: the options' flags minus those
 * that do not apply to this model (for a quantized model, FOR_INFERENCE and
 * BFLOAT16 always, FREEZE when the file is already frozen, QUANTIZE_INPUT
 * when its graph does not start as that flag needs; for a float model,
 * QUANTIZE_INPUT). 0 for NULL. */
IMGCLASS_API unsigned imgclass_model_optimize(const imgclass_model *model);

/* The steps of a model load, as imgclass_model_load_ms() times them. */
typedef enum imgclass_load_step {
    IMGCLASS_LOAD_ENGINE_START = 0, /* loading the engine module and libtorch's start (the
                                     * process's first engine use; 0 after); from a file,
                                     * the part not overlapped with READ */
    IMGCLASS_LOAD_READ = 1,         /* reading the file, and gunzip (from memory: gunzip) */
    IMGCLASS_LOAD_DESERIALIZE = 2,  /* the TorchScript archive and its recipe */
    IMGCLASS_LOAD_OPTIMIZE = 3,     /* freeze, optimize_for_inference, bf16 conversion */
    IMGCLASS_LOAD_CHECK = 4,        /* the shape check: one forward pass at batch 2 (on a
                                     * model-cache hit at batch 1: the entry was made by a
                                     * load whose check passed) */
    IMGCLASS_LOAD_WARMUP = 5,       /* the warmup_runs forward passes at batch 1 (on a
                                     * cache hit the check was the first of them) */
    IMGCLASS_LOAD_TOTAL = 6,        /* the whole imgclass_model_load*() call */
    IMGCLASS_LOAD_CACHE = 7,        /* the model cache (cache_dir): hashing the model,
                                     * reading and checking the entry (from a file,
                                     * overlapped with ENGINE_START), and on a miss making,
                                     * checking and writing one; 0 without a cache */
    IMGCLASS_LOAD_FREEZE = 8        /* the freeze alone, a part of OPTIMIZE (the rest:
                                     * optimize_for_inference's graph passes, bf16
                                     * conversion); 0 when the cache's entry was used */
} imgclass_load_step;

/* Milliseconds the load of `model` spent on `step`; -1 for NULL or an
 * unknown step. Thread-safe. */
IMGCLASS_API double imgclass_model_load_ms(const imgclass_model *model, imgclass_load_step step);
/* What the load of `model` did with the model cache
 * (imgclass_model_options.cache_dir), valid while the model lives:
 *   "off"              no cache_dir;
 *   "hit"              it started from the cache's entry;
 *   "stored"           there was no entry; the load wrote one;
 *   "replaced: WHY"    there was an entry it could not use (WHY: damaged,
 *                      truncated, made by another engine, ...); the load
 *                      wrote a new one;
 *   "uncached: WHY"    no usable entry and none written (WHY: a quantized
 *                      model, a folder that cannot be written, ...).
 * NULL for NULL. Thread-safe. */
IMGCLASS_API const char *imgclass_model_cache_state(const imgclass_model *model);
/* Label and id of class i, or NULL when the model has no labels (or no id
 * for that line) or i is out of range. Valid while the model lives and its
 * labels are not replaced. */
IMGCLASS_API const char *imgclass_model_label(const imgclass_model *model, int index);
IMGCLASS_API const char *imgclass_model_label_id(const imgclass_model *model, int index);

/* The recipe: a model exported by tools/export_model.py carries its
 * evaluation preprocessing (resize mode and size, crop, interpolation,
 * mean, std, and optionally its labels) as "imgclass.json" in the
 * TorchScript archive's extra files. imgclass_model_load() reads and
 * validates it (a malformed recipe is IMGCLASS_ERR_MODEL naming the field);
 * it then becomes the model's default preprocessing and its labels (which
 * imgclass_model_load_labels() replaces). Options passed explicitly
 * (imgclass_classify() with non-NULL options, imgclass_preprocess*())
 * override it. A model without a recipe behaves as before: the defaults of
 * imgclass_preprocess_options_default().
 * The format: docs/preprocessing.md. */

/* 1 when the model carries a recipe, else 0 (also for NULL). Thread-safe. */
IMGCLASS_API int imgclass_model_has_recipe(const imgclass_model *model);

/* The model's default preprocessing, copied into *out (the caller owns
 * the copy): its recipe, or imgclass_preprocess_options_default() for a
 * model without one. imgclass_classify() with NULL options uses it.
 * out->struct_size must be set first (start *out from
 * imgclass_preprocess_options_init()); only that many bytes are written.
 * A refused size is IMGCLASS_ERR_INVALID_ARGUMENT and nothing is written.
 * Thread-safe. */
IMGCLASS_API imgclass_status imgclass_model_preprocess_options(const imgclass_model *model,
                                                               imgclass_preprocess_options *out);

/* The recipe's JSON text as stored in the model (NUL-terminated), or NULL
 * without one. Owned by the model: valid while it lives. Thread-safe. */
IMGCLASS_API const char *imgclass_model_recipe_json(const imgclass_model *model);

/* Frees the model. NULL is a no-op. Must not race with any use of it. */
IMGCLASS_API void imgclass_model_free(imgclass_model *model);

/* The engine's intra-op thread pool is process-wide (libtorch's), so its
 * size is set here for every model, not per model. n >= 1. Call it before
 * loading models or while no forward pass runs. Before the engine module is
 * loaded the count is kept and applied when it loads, and get returns it;
 * get with nothing set loads the module to ask it (1 if that fails). With
 * nothing set, the module starts with one thread per physical core this
 * process may run on, or with OMP_NUM_THREADS / MKL_NUM_THREADS where set
 * (libtorch's own default), or libtorch's default where the cores cannot
 * be read. */
IMGCLASS_API imgclass_status imgclass_set_num_threads(int n);
IMGCLASS_API int imgclass_get_num_threads(void);

/* Version string of the inference engine, e.g. "libtorch 1.13.0". Loads
 * the engine module if no model has yet; "no engine module" when it cannot
 * be loaded (the reason is in imgclass_last_error()). Static string. */
IMGCLASS_API const char *imgclass_engine_version(void);

/* ------------------------------------------------------------------------ */
/* Prediction                                                               */
/* ------------------------------------------------------------------------ */

/* Runs `batch` (N x C x H x W, matching the model's input size) through the
 * model and writes N x K scores (probabilities, or logits if the model was
 * loaded with softmax = 0) into `out`, which holds `out_count` floats
 * (at least N * K). Thread-safe on one model. */
IMGCLASS_API imgclass_status imgclass_predict(const imgclass_model *model,
                                              const imgclass_batch *batch,
                                              float *out, size_t out_count);

/* One class of a result. `label` and `id` point into the model's labels
 * (NULL without labels); valid while the model lives.
 * Frozen: the one public struct without struct_size, because callers index
 * arrays of it (imgclass_results_top(), imgclass_topk()). It never grows;
 * more per-class data would come through new functions. */
typedef struct imgclass_class {
    int index;
    /* The model's score for the class: a probability with softmax (the
     * default), a raw logit with softmax = 0. */
    float score;
    const char *label;
    const char *id;
} imgclass_class;

/* The k best of `num_classes` scores, best first, ties to the lower index;
 * NaN ranks below every number. O(num_classes * log k), no allocation.
 * k is clamped to num_classes; *out_k receives how many were written to
 * `out` (which holds at least k entries). `model` may be NULL; when given,
 * labels are filled from it. Thread-safe. */
IMGCLASS_API imgclass_status imgclass_topk(const imgclass_model *model, const float *scores,
                                           int num_classes, int k, imgclass_class *out,
                                           int *out_k);

/* One input of imgclass_classify(). */
typedef enum imgclass_input_kind {
    IMGCLASS_INPUT_PATH = 0,   /* .path: a file to decode */
    IMGCLASS_INPUT_MEMORY = 1, /* .data/.size: an encoded image in memory */
    IMGCLASS_INPUT_IMAGE = 2   /* .image: an image already decoded or wrapped */
} imgclass_input_kind;

typedef struct imgclass_input {
    /* sizeof(imgclass_input) as the caller was compiled (see
     * "Compatibility"); an array is strided by its first element's. */
    size_t struct_size;
    imgclass_input_kind kind;
    const char *path;
    const void *data;
    size_t size;
    const imgclass_image *image;
    IMGCLASS_GROWN_FIELD
} imgclass_input;

/* Initialisers of one input, e.g. `imgclass_input in =
 * IMGCLASS_INPUT_FILE("a.jpg");` (C99 compound literals). */
#define IMGCLASS_INPUT_FILE(p) \
    ((imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = (p)})
#define IMGCLASS_INPUT_BUFFER(d, n)                                                      \
    ((imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, \
                      .data = (d), .size = (n)})
#define IMGCLASS_INPUT_DECODED(im) \
    ((imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = (im)})

/* Which classes a result may report, applied to the scores before top-k
 * (as TFLite Task's score_threshold and category allow/deny lists). */
typedef struct imgclass_filter {
    size_t struct_size; /* set by imgclass_filter_init() (see "Compatibility") */
    /* Classes whose score is below this are omitted; a score equal to it is
     * kept. Compared with the score as reported (a probability, or a logit
     * for a model loaded with softmax = 0). An image may then have fewer
     * than topk classes, or none: that is a success with k = 0, not an
     * error. Default -INFINITY (no threshold); NaN is
     * IMGCLASS_ERR_INVALID_ARGUMENT. */
    float score_threshold;
    /* Allow list: only these classes may be reported. Deny list: these are
     * never reported. At most one of the two may be given (both:
     * IMGCLASS_ERR_INVALID_ARGUMENT). Each is given by class indices and/or
     * by labels; a label matches a class whose label or id (the synset
     * "n01440764") is exactly that text. An index out of range, a label the
     * model does not have, or labels on a model without labels is
     * IMGCLASS_ERR_INVALID_ARGUMENT naming it. The arrays are read only
     * during the call that takes the options (imgclass_classify(),
     * imgclass_pipeline_create()); the caller keeps them. Default: none. */
    const int *allow_indices;
    size_t allow_index_count;
    const char *const *allow_labels;
    size_t allow_label_count;
    const int *deny_indices;
    size_t deny_index_count;
    const char *const *deny_labels;
    size_t deny_label_count;
    IMGCLASS_GROWN_FIELD
} imgclass_filter;

/* No threshold, no lists. As imgclass_decode_options_init(). */
IMGCLASS_API imgclass_status imgclass_filter_init(imgclass_filter *filter, size_t size);

static inline imgclass_filter imgclass_filter_default(void)
{
    imgclass_filter f; /* _init() zero-fills it all */
    imgclass_filter_init(&f, sizeof f);
    return f;
}

/* Means "every class" in the topk of imgclass_classify_options and
 * imgclass_pipeline_options (the filter still applies). */
#define IMGCLASS_TOPK_ALL (-1)

typedef struct imgclass_classify_options {
    size_t struct_size; /* set by imgclass_classify_options_init() (see "Compatibility") */
    /* Classes per result, clamped to the model's; IMGCLASS_TOPK_ALL (-1)
     * for all of them. Default 5. */
    int topk;
    /* The options below are read only during imgclass_classify(); the
     * caller keeps them. NULL (default): the defaults; for `preprocess`,
     * the model's own (its recipe, see imgclass_model_preprocess_options()). */
    const imgclass_decode_options *decode;
    const imgclass_preprocess_options *preprocess;
    /* Threads that decode and preprocess in parallel; 0 (default) picks
     * from the number of CPUs. Separate from the engine's pool. */
    int preprocess_threads;
    const imgclass_filter *filter; /* NULL (default): no filter */
    IMGCLASS_GROWN_FIELD
} imgclass_classify_options;

/* As imgclass_decode_options_init(). */
IMGCLASS_API imgclass_status imgclass_classify_options_init(imgclass_classify_options *opts,
                                                            size_t size);

static inline imgclass_classify_options imgclass_classify_options_default(void)
{
    imgclass_classify_options o; /* _init() zero-fills it all */
    imgclass_classify_options_init(&o, sizeof o);
    return o;
}

/* Since 0.2.0 the same as imgclass_classify_options_default(): a NULL
 * `preprocess` already means the model's recipe. */
IMGCLASS_DEPRECATED("use imgclass_classify_options_default(); NULL preprocess is the model's recipe")
static inline imgclass_classify_options imgclass_classify_options_for_model(const imgclass_model *model)
{
    (void)model;
    return imgclass_classify_options_default();
}

/* Per-image results of imgclass_classify(). */
typedef struct imgclass_results imgclass_results;

/* Decodes, preprocesses and classifies `count` inputs, any number of them:
 * the call runs a pipeline of its own (see imgclass_pipeline_create()),
 * which cuts them into forward passes of a few images and overlaps each
 * pass with the preprocessing of the next, so memory stays bounded
 * whatever `count` is (the results hold every input's scores). A bad
 * input fails only its own slot (see imgclass_results_status()), and so
 * does an image for which the model gives a NaN or infinite score
 * (IMGCLASS_ERR_ENGINE, naming the input and the class); the call
 * itself fails only for bad arguments, out of memory, or an engine error.
 * `options` may be NULL: imgclass_classify_options_for_model(model), so the
 * model's recipe when it has one. Thread-safe on one model. */
IMGCLASS_API imgclass_status imgclass_classify(const imgclass_model *model,
                                               const imgclass_input *inputs, size_t count,
                                               const imgclass_classify_options *options,
                                               imgclass_results **out);

IMGCLASS_API size_t imgclass_results_count(const imgclass_results *results);
/* Status of input i; IMGCLASS_OK when it was classified. */
IMGCLASS_API imgclass_status imgclass_results_status(const imgclass_results *results, size_t i);
/* Error message of input i ("" when it succeeded); NULL when results is NULL
 * or i is out of range, as the accessors below. Valid while results live. */
IMGCLASS_API const char *imgclass_results_error(const imgclass_results *results, size_t i);
/* Top-k classes of input i, best first, after the filter; *k receives
 * their number (0 for a failed input, and for a successful one whose every
 * class the filter removed). Valid while results and model live. */
IMGCLASS_API const imgclass_class *imgclass_results_top(const imgclass_results *results, size_t i,
                                                        int *k);
/* All K scores of input i (NULL for a failed input). */
IMGCLASS_API const float *imgclass_results_scores(const imgclass_results *results, size_t i);
IMGCLASS_API void imgclass_results_free(imgclass_results *results);


/* ------------------------------------------------------------------------ */
/* Pipeline: a long-lived classifier with dynamic batching                  */
/* ------------------------------------------------------------------------ */

/* A pipeline runs one model for as long as the host wants: images are
 * submitted one at a time from any threads; a persistent pool decodes and
 * preprocesses them straight into a batch; the batch is cut when it is full,
 * when `max_delay_us` has passed since its first image was ready, or on
 * imgclass_pipeline_flush(); one engine thread runs the forward pass while
 * the next batch fills; each image's result goes to a callback. Batch
 * tensors, score buffers and threads are made once, at creation.
 *
 *   submit(input, user) -> preprocess pool -> batcher (full | deadline |
 *   flush) -> forward -> callback(result)
 *
 * Everything that must wait (a full queue, flush, free) waits on condition
 * variables; nothing polls. */
typedef struct imgclass_pipeline imgclass_pipeline;

/* Why a batch was cut. */
typedef enum imgclass_cut_reason {
    IMGCLASS_CUT_FULL = 0,     /* it reached max_batch images */
    IMGCLASS_CUT_DEADLINE = 1, /* max_delay_us passed since its first image was ready */
    IMGCLASS_CUT_FLUSH = 2     /* imgclass_pipeline_flush() or free() asked for it */
} imgclass_cut_reason;

/* The result of one submitted image, as the callback sees it. Every pointer
 * in it is valid only during the callback: copy what you keep.
 * struct_size is this library's sizeof: a caller built against an older
 * header reads its own fields, which never move; one built against a newer
 * header reads only the fields below struct_size. */
typedef struct imgclass_pipeline_result {
    size_t struct_size;      /* the library's sizeof(imgclass_pipeline_result) */
    void *user;              /* the pointer given to imgclass_pipeline_submit() */
    uint64_t seq;            /* the sequence number submit returned (0, 1, 2, ...) */
    imgclass_status status;  /* IMGCLASS_OK, or why this image failed */
    const char *error;       /* "" on success, else "<source>: <status>: <reason>" */
    /* Best first, after the filter; k entries (0 when failed, or when the
     * filter removed every class: still a success). */
    const imgclass_class *top;
    int k;
    const float *scores;     /* all num_classes scores; NULL when failed */
    int num_classes;
    /* Microseconds: from submit until a worker took the image; decoding
     * and preprocessing; the forward pass of its batch (0 when it failed
     * before the forward pass). */
    double queued_us, preprocess_us, forward_us;
    int batch_size;          /* images in the forward pass it ran in (0 if none) */
    imgclass_cut_reason cut; /* why its batch was cut */
    /* The batch it was cut in, numbered 0, 1, 2, ... in cut order, and how
     * many images that batch held, failed ones included. The results of one
     * batch are delivered together, so `batch_inputs` tells the last one
     * (0 for a failure delivered early with ordered = 0). */
    uint64_t batch_id;
    int batch_inputs;
    IMGCLASS_GROWN_FIELD
} imgclass_pipeline_result;

/* Called once for every submitted image. With `ordered` (the default) it is
 * called from the pipeline's engine thread only, in submission order (seq
 * 0, 1, 2, ...). With ordered = 0, an image that fails before the forward
 * pass is delivered at once from the thread that prepared it (a worker, or
 * a thread of the engine's team: see preprocess_threads), so calls may come
 * from several threads at once and out of order. Keep it short: the
 * next forward pass waits for it. It may call imgclass_pipeline_submit()
 * with IMGCLASS_SUBMIT_NONBLOCK and imgclass_pipeline_stats(), never flush()
 * or free() on the same pipeline. */
typedef void (*imgclass_result_fn)(void *ctx, const imgclass_pipeline_result *result);

typedef struct imgclass_pipeline_options {
    size_t struct_size; /* set by imgclass_pipeline_options_init() (see "Compatibility") */
    int max_batch;            /* images per forward pass, >= 1; default 8 */
    /* Longest wait, in microseconds, from the moment the first image of a
     * batch is ready until the batch is cut; 0 cuts a batch as soon as its
     * first image is ready; -1 means no deadline (only full batches and
     * flushes are cut). Default 5000 (5 ms). Images already being
     * preprocessed into a batch when it is cut finish and ride along. */
    int64_t max_delay_us;
    /* Decode/preprocess threads; 0 (default) picks CPUs - engine threads
     * where that leaves at least one, so the two pools do not oversubscribe
     * the cores. Where it leaves none (the engine's threads use every CPU)
     * there are no such threads: between forward passes the engine's own
     * threads (its intra-op team) prepare the images waiting, all at once,
     * and no image is prepared during a forward pass; images already
     * waiting then join the batch being filled whatever max_delay_us says
     * (docs/engine.md, "Thread budget"). */
    int preprocess_threads;
    /* Images accepted but not yet delivered; submit blocks (or reports
     * IMGCLASS_ERR_BUSY) beyond it. 0 (default) means 4 * max_batch. */
    int queue_capacity;
    /* Classes per result, clamped to the model's; IMGCLASS_TOPK_ALL (-1)
     * for all. Default 5. */
    int topk;
    /* Copied by imgclass_pipeline_create(); NULL (default): the defaults;
     * for `preprocess`, the model's own (its recipe). */
    const imgclass_decode_options *decode;
    const imgclass_preprocess_options *preprocess;
    imgclass_result_fn on_result; /* required */
    void *on_result_ctx;
    int ordered;              /* deliver in submission order; default 1 */
    /* The nice value (0..19) the preprocessing threads give themselves
     * (engine first: docs/engine.md, "Thread budget"). Default 19; 0 keeps
     * the creating thread's priority. Unused where the engine's team
     * prepares (see preprocess_threads). */
    int preprocess_nice;
    /* Threshold and allow/deny list, resolved against the model's labels
     * at creation (the caller keeps it). NULL (default): none. */
    const imgclass_filter *filter;
    /* Forward passes that may run at once, each on a thread
     * of its own (an engine lane) with engine_lane_threads intra-op
     * threads, which prepares its own batch before its forward pass; the
     * results still come in submission order. Only where the engine's team
     * prepares (see preprocess_threads); with workers there is one lane.
     * 0 (default): the library picks, 2 for an int8 model when there are
     * at least 2 engine threads, else 1 (docs/engine.md, "Engine lanes");
     * 1: one engine thread, whose team uses every engine thread. 0..64. */
    int engine_lanes;
    /* Intra-op threads of each lane; 0 (default): the engine
     * threads (imgclass_get_num_threads()) divided among the lanes, at
     * least 1. Unused with one lane. 0..1024. */
    int engine_lane_threads;
    IMGCLASS_GROWN_FIELD
} imgclass_pipeline_options;

/* As imgclass_decode_options_init(). */
IMGCLASS_API imgclass_status imgclass_pipeline_options_init(imgclass_pipeline_options *opts,
                                                            size_t size);

static inline imgclass_pipeline_options imgclass_pipeline_options_default(void)
{
    imgclass_pipeline_options o; /* _init() zero-fills it all */
    imgclass_pipeline_options_init(&o, sizeof o);
    return o;
}

/* Since 0.2.0 the same as imgclass_pipeline_options_default(): a NULL
 * `preprocess` already means the model's recipe. */
IMGCLASS_DEPRECATED("use imgclass_pipeline_options_default(); NULL preprocess is the model's recipe")
static inline imgclass_pipeline_options imgclass_pipeline_options_for_model(const imgclass_model *model)
{
    (void)model;
    return imgclass_pipeline_options_default();
}

/* Starts a pipeline over `model`, which must outlive it and must not get
 * new labels while it runs. Creates the threads and every buffer now.
 * Thread-safe; several pipelines may share one model. */
IMGCLASS_API imgclass_status imgclass_pipeline_create(const imgclass_model *model,
                                                      const imgclass_pipeline_options *options,
                                                      imgclass_pipeline **out);

/* Flags for imgclass_pipeline_submit(). */
#define IMGCLASS_SUBMIT_NONBLOCK 0x1u /* a full queue gives IMGCLASS_ERR_BUSY, not a wait */
#define IMGCLASS_SUBMIT_COPY 0x2u     /* copy a memory buffer or image now */

/* Submits one image. `user` comes back in its result. On success *seq (may
 * be NULL) receives its sequence number and the callback will run exactly
 * once for it, also when the image turns out to be bad. On failure (bad
 * arguments, IMGCLASS_ERR_BUSY, IMGCLASS_ERR_CLOSED, out of memory) nothing
 * was accepted and no callback runs for it.
 * Ownership: a path is copied. A memory buffer (`data`) or a borrowed
 * image must stay valid and unchanged until its result has been delivered,
 * unless IMGCLASS_SUBMIT_COPY copies it during this call.
 * Thread-safe: any number of threads may submit at once. Blocks while the
 * queue is full, unless IMGCLASS_SUBMIT_NONBLOCK. */
IMGCLASS_API imgclass_status imgclass_pipeline_submit(imgclass_pipeline *pipeline,
                                                      const imgclass_input *input, void *user,
                                                      unsigned flags, uint64_t *seq);

/* Cuts the partial batch now and waits until every image submitted before
 * the call has been delivered. Thread-safe; never from a callback. */
IMGCLASS_API imgclass_status imgclass_pipeline_flush(imgclass_pipeline *pipeline);

/* Latency histogram: bucket i counts deliveries whose total latency (submit
 * to the start of the callback) was at most IMGCLASS_LATENCY_BUCKET_US(i)
 * microseconds and more than bucket i-1's bound; the last bucket counts
 * everything above. */
#define IMGCLASS_LATENCY_BUCKETS 24
#define IMGCLASS_LATENCY_BUCKET_US(i) (50.0 * (double)(1ull << (unsigned)(i)))

typedef struct imgclass_pipeline_stats {
    size_t struct_size;   /* set by the caller: sizeof(imgclass_pipeline_stats) */
    uint64_t submitted;   /* accepted by submit */
    uint64_t delivered;   /* results handed to the callback (counted as it starts) */
    uint64_t failed;      /* of those, with a status other than IMGCLASS_OK */
    uint64_t batches;     /* forward passes run (attempted) */
    uint64_t batches_full, batches_deadline, batches_flush;
    uint64_t batched_images; /* images in those forward passes */
    uint64_t queue_depth; /* accepted and not yet delivered, now */
    int queue_capacity;
    /* Total latency (submit to delivery), microseconds: quantiles over the
     * last 1024 deliveries (0 before the first), and since creation the
     * histogram and the sum. */
    double latency_p50_us, latency_p90_us, latency_p99_us;
    uint64_t latency_buckets[IMGCLASS_LATENCY_BUCKETS];
    double latency_sum_us;
    /* Sums since creation, microseconds: time queued before a worker took
     * an image, preprocessing, and forward passes (once per batch). */
    double queued_sum_us, preprocess_sum_us, forward_sum_us;
    /* Images the engine thread decoded and preprocessed itself: with
     * workers, when it is idle, the next forward pass has no image yet and
     * a lone image waits, it prepares that image rather than wake a worker
     * (low load), and the workers prepare everything else; without workers
     * (see preprocess_threads), the engine's team prepares every image. */
    uint64_t engine_prepared;
    IMGCLASS_GROWN_FIELD
} imgclass_pipeline_stats;

/* Fills *out (whose struct_size the caller sets; only that many bytes are
 * written) with a consistent snapshot. Thread-safe, also from a callback. */
IMGCLASS_API imgclass_status imgclass_pipeline_stats_get(const imgclass_pipeline *pipeline,
                                                         imgclass_pipeline_stats *out);

/* Stops accepting (submit then gives IMGCLASS_ERR_CLOSED), delivers
 * everything already accepted, joins the threads and frees all. No
 * callback runs after it returns. NULL is a no-op. Never from a callback. */
IMGCLASS_API void imgclass_pipeline_free(imgclass_pipeline *pipeline);

#ifdef __cplusplus
}
#endif

#endif /* IMGCLASS_H */
