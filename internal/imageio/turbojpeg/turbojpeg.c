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
  cinfo.out_color_space = JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);
  int w = cinfo.output_width, h = cinfo.output_height;
  size_t stride = (size_t)w * 3;
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
