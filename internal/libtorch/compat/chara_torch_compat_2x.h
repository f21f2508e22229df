// Compat for libtorch 2.2 and later (checked against 2.11 headers): three
// ops whose optional arguments changed. Included by chara_torch_compat.h.
#ifndef CHARA_TORCH_COMPAT_2X_H
#define CHARA_TORCH_COMPAT_2X_H
CHARA_CHANGED_AT(_cslt_sparse_mm)
CHARA_CHANGED_AT(_scaled_mm)
CHARA_CHANGED_AT(_scaled_mm_out)
#endif
