#ifndef CHARA_TURBOJPEG_H
#define CHARA_TURBOJPEG_H
enum { CHARA_JPEG_OK = 0, CHARA_JPEG_ERROR = 1, CHARA_JPEG_CORRUPT = 2, CHARA_JPEG_UNSUPPORTED = 3 };
int chara_jpeg_decode_scaled(const unsigned char *data, unsigned long size, int denom,
                             unsigned char **out, int *width, int *height, char *errbuf, int errlen);
int chara_jpeg_encode_rgba(const unsigned char *pix, int width, int height, int stride, int quality,
                           unsigned char **out, unsigned long *outsize, char *errbuf, int errlen);
#endif
