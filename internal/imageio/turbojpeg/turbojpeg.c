// Scaled JPEG decoding with libjpeg-turbo: the IDCT runs at 1/8 (or 1/4,
// 1/2) size, so a 1200x1800 JPEG becomes 150x225 RGB without ever being
// decoded at full size, and libjpeg-turbo's entropy decoder is several times
// faster than Go's.
#include "turbojpeg_chara.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

struct chara_err {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
};

static void chara_error_exit(j_common_ptr cinfo) {
  struct chara_err *e = (struct chara_err *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jump, 1);
}

// Warnings (a truncated file, corrupt data that libjpeg papers over) are
// errors here: a dataset must not learn from gray-filled pictures.
static void chara_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) {
    struct chara_err *e = (struct chara_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 2);
  }
}

int chara_jpeg_decode_scaled(const unsigned char *data, unsigned long size, int denom,
                             unsigned char **out, int *width, int *height, char *errbuf, int errlen) {
  struct jpeg_decompress_struct cinfo;
  struct chara_err jerr;
  unsigned char *volatile pix = NULL;
  memset(&cinfo, 0, sizeof(cinfo));
  cinfo.err = jpeg_std_error(&jerr.mgr);
  jerr.mgr.error_exit = chara_error_exit;
  jerr.mgr.emit_message = chara_emit_message;
  jerr.msg[0] = 0;
  int rc = setjmp(jerr.jump);
  if (rc != 0) {
    jpeg_destroy_decompress(&cinfo);
    free(pix);
    snprintf(errbuf, errlen, "%s", jerr.msg);
    return rc == 2 ? CHARA_JPEG_CORRUPT : CHARA_JPEG_ERROR;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    snprintf(errbuf, errlen, "CMYK JPEG");
    return CHARA_JPEG_UNSUPPORTED;
  }
  // RGBA straight from libjpeg-turbo (its colour converter writes the
  // opaque alpha byte): the caller's NRGBA needs no conversion pass.
  cinfo.out_color_space = JCS_EXT_RGBA;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);
  int w = cinfo.output_width, h = cinfo.output_height;
  size_t stride = (size_t)w * 4;
  pix = malloc(stride * (size_t)h);
  if (pix == NULL) {
    jpeg_destroy_decompress(&cinfo);
    snprintf(errbuf, errlen, "out of memory");
    return CHARA_JPEG_ERROR;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pix + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *out = pix;
  *width = w;
  *height = h;
  return CHARA_JPEG_OK;
}

int chara_jpeg_encode_rgba(const unsigned char *pix, int width, int height, int stride, int quality,
                           unsigned char **out, unsigned long *outsize, char *errbuf, int errlen) {
  struct jpeg_compress_struct cinfo;
  struct chara_err jerr;
  unsigned char *volatile buf = NULL;
  unsigned long size = 0;
  memset(&cinfo, 0, sizeof(cinfo));
  cinfo.err = jpeg_std_error(&jerr.mgr);
  jerr.mgr.error_exit = chara_error_exit;
  jerr.msg[0] = 0;
  if (setjmp(jerr.jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    free(buf);
    snprintf(errbuf, errlen, "%s", jerr.msg);
    return CHARA_JPEG_ERROR;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, (unsigned char **)&buf, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_EXT_RGBA;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pix + (size_t)stride * cinfo.next_scanline);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  *out = buf;
  *outsize = size;
  return CHARA_JPEG_OK;
}
