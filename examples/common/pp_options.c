/* Parsing of the preprocessing options; see pp_options.h. */
#include "pp_options.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

pp_args pp_args_init(void)
{
    pp_args a;
    memset(&a, 0, sizeof a);
    return a;
}

int pp_parse_dims(const char *s, int *w, int *h, int *was_wh)
{
    const char *x = strchr(s, 'x');
    if (!x)
        x = strchr(s, 'X');
    if (!x) {
        if (cli_parse_int(s, 1, 1 << 16, w))
            return -1;
        *h = *w;
        *was_wh = 0;
        return 0;
    }
    char first[32];
    size_t n = (size_t)(x - s);
    if (n == 0 || n >= sizeof first)
        return -1;
    memcpy(first, s, n);
    first[n] = '\0';
    if (cli_parse_int(first, 1, 1 << 16, w) || cli_parse_int(x + 1, 1, 1 << 16, h))
        return -1;
    *was_wh = 1;
    return 0;
}

int pp_parse_triple(const char *s, float v[3])
{
    const char *p = s;
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        double d = strtod(p, &end);
        if (errno || end == p)
            return -1;
        v[i] = (float)d;
        if (i < 2) {
            if (*end != ',')
                return -1;
            p = end + 1;
        } else if (*end) {
            return -1;
        }
    }
    return 0;
}

static const struct option pp_long_options[] = {PP_ARGS_LONG_OPTIONS, {NULL, 0, NULL, 0}};

int pp_args_option(pp_args *a, int code, const char *v, const char *prog)
{
    switch (code) {
    case PP_OPT_FAST:
        a->fast = 1;
        return 1;
    case PP_OPT_EXIF_TRANSPOSE:
        a->exif_transpose = 1;
        return 1;
    case PP_OPT_PRESET:
        a->have_preset = 1;
        a->tv = NULL;
        a->preset_djl = 0;
        if (!strcmp(v, "imagenet") || !strcmp(v, "torchvision"))
            a->preset_djl = 0;
        else if (!strcmp(v, "djl"))
            a->preset_djl = 1;
        else if (!strncmp(v, "torchvision:", 12)) {
            a->tv = tv_preset_find(v + 12);
            if (!a->tv) {
                fprintf(stderr,
                        "%s: unknown torchvision weights '%s' (names as torchvision 0.14 gives "
                        "them, e.g. torchvision:EfficientNet_B0_Weights.IMAGENET1K_V1)\n",
                        prog, v + 12);
                return -1;
            }
        } else
            goto bad;
        return 1;
    case PP_OPT_RESIZE_MODE:
        a->have_mode = 1;
        /* "short" is the documented name; "shorter" is accepted too. */
        if (!strcmp(v, "short") || !strcmp(v, "shorter"))
            a->mode = IMGCLASS_RESIZE_SHORTER;
        else if (!strcmp(v, "exact"))
            a->mode = IMGCLASS_RESIZE_EXACT;
        else if (!strcmp(v, "none"))
            a->mode = IMGCLASS_RESIZE_NONE;
        else
            goto bad;
        return 1;
    case PP_OPT_INTERPOLATION:
        if (!strcmp(v, "bilinear"))
            a->interp = IMGCLASS_INTERP_BILINEAR;
        else if (!strcmp(v, "bicubic"))
            a->interp = IMGCLASS_INTERP_BICUBIC;
        else
            goto bad;
        a->have_interp = 1;
        return 1;
    case PP_OPT_SIZE:
        if (pp_parse_dims(v, &a->size_w, &a->size_h, &a->size_is_wh))
            goto bad;
        a->have_size = 1;
        a->size = a->size_w;
        return 1;
    case PP_OPT_CROP: {
        int wh;
        a->have_crop = 1;
        if (!strcmp(v, "none") || !strcmp(v, "0")) {
            a->crop_w = a->crop_h = 0;
            return 1;
        }
        if (pp_parse_dims(v, &a->crop_w, &a->crop_h, &wh))
            goto bad;
        return 1;
    }
    case PP_OPT_MEAN:
        if (pp_parse_triple(v, a->mean))
            goto bad;
        a->have_mean = 1;
        return 1;
    case PP_OPT_STD:
        if (pp_parse_triple(v, a->std))
            goto bad;
        for (int k = 0; k < 3; k++)
            if (!(a->std[k] != 0.0f))
                goto bad;
        a->have_std = 1;
        return 1;
    default:
        return 0;
    }
bad:
    fprintf(stderr, "%s: bad value '%s' for --%s\n", prog, v, cli_option_name(pp_long_options, code));
    return -1;
}

/* The base the overrides apply to. */
static imgclass_preprocess_options base_options(const pp_args *a,
                                                const imgclass_preprocess_options *base)
{
    if (a->tv) {
        imgclass_preprocess_options o = imgclass_preprocess_options_default();
        o.resize_mode = IMGCLASS_RESIZE_SHORTER;
        o.resize_size = a->tv->resize;
        o.crop_width = o.crop_height = a->tv->crop;
        o.interpolation = a->tv->interpolation;
        for (int c = 0; c < 3; c++) {
            o.mean[c] = a->tv->mean[c];
            o.std[c] = a->tv->std[c];
        }
        return o;
    }
    if (base && !a->have_preset)
        return *base;
    return a->preset_djl ? imgclass_preprocess_options_djl()
                         : imgclass_preprocess_options_default();
}

int pp_args_known_size(const pp_args *a, int *height, int *width)
{
    imgclass_preprocess_options o;
    if (!a->have_preset && !a->have_crop)
        return 0; /* the crop comes from the model's recipe */
    if (pp_args_finish_base(a, NULL, &o, NULL))
        return 0;
    if (o.crop_width > 0) {
        *height = o.crop_height;
        *width = o.crop_width;
        return 1;
    }
    if (o.resize_mode == IMGCLASS_RESIZE_EXACT && (a->have_preset || a->have_size)) {
        *height = o.resize_height;
        *width = o.resize_width;
        return 1;
    }
    return 0;
}

int pp_args_finish(const pp_args *a, imgclass_preprocess_options *out, const char *prog)
{
    return pp_args_finish_base(a, NULL, out, prog);
}

int pp_args_finish_base(const pp_args *a, const imgclass_preprocess_options *base,
                        imgclass_preprocess_options *out, const char *prog)
{
    imgclass_preprocess_options o = base_options(a, base);
    if (a->have_mode)
        o.resize_mode = (imgclass_resize_mode)a->mode;
    else if (a->have_size && a->size_is_wh)
        o.resize_mode = IMGCLASS_RESIZE_EXACT; /* "--size 256x256" means exactly that */
    if (a->have_size) {
        if (o.resize_mode == IMGCLASS_RESIZE_SHORTER && a->size_is_wh) {
            if (prog)
                fprintf(stderr,
                        "%s: --size WxH needs --resize-mode exact (short takes one number)\n",
                        prog);
            return -1;
        }
        o.resize_size = a->size;
        o.resize_width = a->size_w;
        o.resize_height = a->size_h;
    }
    if (a->have_crop) {
        o.crop_width = a->crop_w;
        o.crop_height = a->crop_h;
    }
    if (a->have_mean)
        memcpy(o.mean, a->mean, sizeof o.mean);
    if (a->have_std)
        memcpy(o.std, a->std, sizeof o.std);
    if (a->have_interp)
        o.interpolation = (imgclass_interpolation)a->interp;
    o.fast = a->fast;
    int h, w;
    /* Validates the whole set (the library knows the rules). */
    if (imgclass_preprocess_output_size(&o, 640, 480, &h, &w) != IMGCLASS_OK) {
        if (prog)
            fprintf(stderr, "%s: inconsistent preprocessing options: %s\n", prog,
                    imgclass_last_error());
        return -1;
    }
    *out = o;
    return 0;
}

int pp_fixed_output_size(const imgclass_preprocess_options *o, int *height, int *width,
                         const char *prog)
{
    int h1, w1, h2, w2;
    /* Two very different shapes: equal outputs mean the size is fixed. */
    if (imgclass_preprocess_output_size(o, 640, 480, &h1, &w1) != IMGCLASS_OK ||
        imgclass_preprocess_output_size(o, 97, 1203, &h2, &w2) != IMGCLASS_OK) {
        fprintf(stderr, "%s: inconsistent preprocessing options: %s\n", prog,
                imgclass_last_error());
        return -1;
    }
    if (h1 != h2 || w1 != w2) {
        fprintf(stderr, "%s: the output size depends on each image's size with these options; "
                        "give a --crop or use --resize-mode exact\n", prog);
        return -1;
    }
    *height = h1;
    *width = w1;
    return 0;
}

void pp_args_help(FILE *out)
{
    fputs("preprocessing (default: the model's own recipe, its imgclass.json, when it\n"
          "carries one, else torchvision's ImageNet recipe; bit-exact either way; each\n"
          "option below overrides that one field and keeps the others):\n"
          "  --preset NAME        the base the options below override, in place of the\n"
          "                       model's recipe:\n"
          "                       imagenet: Resize(256) CenterCrop(224)\n"
          "                       djl: Resize((256,256)) CenterCrop(224), as the Deep Java\n"
          "                       Library's ResNet-18\n"
          "                       torchvision:W.NAME: that torchvision 0.14 weights'\n"
          "                       transforms(), e.g. EfficientNet_B0_Weights.IMAGENET1K_V1\n"
          "  --resize-mode MODE   short (shorter side to --size), exact (to WxH), none\n"
          "  --size N|WxH         resize target (imagenet: 256); WxH implies exact\n"
          "  --crop N|WxH|none    center crop (imagenet: 224); none only with exact resize\n"
          "  --interpolation F    resize filter: bilinear (default) or bicubic, both as\n"
          "                       Pillow's Image.resize\n"
          "  --mean R,G,B         normalisation mean (0.485,0.456,0.406)\n"
          "  --std R,G,B          normalisation std (0.229,0.224,0.225)\n"
          "  --fast               allow inexact shortcuts (reduced-scale JPEG decoding)\n"
          "  --exif-transpose     apply the EXIF orientation of JPEG and PNG files first,\n"
          "                       as Pillow's ImageOps.exif_transpose (default: as stored)\n",
          out);
}

imgclass_decode_options pp_args_decode(const pp_args *a)
{
    imgclass_decode_options d = imgclass_decode_options_default();
    d.exif_transpose = a->exif_transpose;
    return d;
}

void pp_describe(const imgclass_preprocess_options *o, char *buf, size_t size)
{
    char resize[64], crop[40];
    if (o->resize_mode == IMGCLASS_RESIZE_SHORTER)
        snprintf(resize, sizeof resize, "--resize-mode short --size %d", o->resize_size);
    else if (o->resize_mode == IMGCLASS_RESIZE_EXACT)
        snprintf(resize, sizeof resize, "--resize-mode exact --size %dx%d", o->resize_width,
                 o->resize_height);
    else
        snprintf(resize, sizeof resize, "--resize-mode none");
    if (o->crop_width > 0)
        snprintf(crop, sizeof crop, "--crop %dx%d", o->crop_width, o->crop_height);
    else
        snprintf(crop, sizeof crop, "--crop none");
    snprintf(buf, size, "%s %s --interpolation %s --mean %.9g,%.9g,%.9g --std %.9g,%.9g,%.9g%s",
             resize, crop, o->interpolation == IMGCLASS_INTERP_BICUBIC ? "bicubic" : "bilinear",
             (double)o->mean[0], (double)o->mean[1], (double)o->mean[2], (double)o->std[0],
             (double)o->std[1], (double)o->std[2], o->fast ? " --fast" : "");
}

void pp_args_origin(const pp_args *a, int model_has_recipe, char *buf, size_t size)
{
    int overrides = a->have_mode || a->have_size || a->have_crop || a->have_interp ||
                    a->have_mean || a->have_std || a->fast;
    snprintf(buf, size, "%s%s",
             a->have_preset     ? "--preset"
             : model_has_recipe ? "the model's recipe"
                                : "the imagenet preset (the model has no recipe)",
             overrides ? ", with options on top" : "");
}
