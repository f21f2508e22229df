// Compat for libtorch 1.x (Debian's libtorch-dev 1.13.1). Included by
// chara_torch_compat.h; see there.
#ifndef CHARA_TORCH_COMPAT_1_H
#define CHARA_TORCH_COMPAT_1_H

// ---- forwarders: same op, new signature ----
namespace torch {
using at::std;
using at::std_mean;
using at::std_mean_out;
using at::std_out;
using at::var;
using at::var_mean;
using at::var_mean_out;
using at::var_out;
using at::squeeze;
using at::squeeze_copy;
using at::squeeze_copy_out;

// std/var with a Scalar correction (2.x) -> an integer correction (1.13).
inline at::Tensor std(const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::std(self, dim, ::chara::correction_of(correction), keepdim);
}
inline at::Tensor &std_out(at::Tensor &out, const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::std_out(out, self, dim, ::chara::correction_of(correction), keepdim);
}
inline std::tuple<at::Tensor, at::Tensor> std_mean(const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::std_mean(self, dim, ::chara::correction_of(correction), keepdim);
}
inline std::tuple<at::Tensor &, at::Tensor &> std_mean_out(at::Tensor &out0, at::Tensor &out1, const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::std_mean_out(out0, out1, self, dim, ::chara::correction_of(correction), keepdim);
}
inline at::Tensor var(const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::var(self, dim, ::chara::correction_of(correction), keepdim);
}
inline at::Tensor &var_out(at::Tensor &out, const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::var_out(out, self, dim, ::chara::correction_of(correction), keepdim);
}
inline std::tuple<at::Tensor, at::Tensor> var_mean(const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::var_mean(self, dim, ::chara::correction_of(correction), keepdim);
}
inline std::tuple<at::Tensor &, at::Tensor &> var_mean_out(at::Tensor &out0, at::Tensor &out1, const at::Tensor &self, at::OptionalIntArrayRef dim, const c10::Scalar &correction, bool keepdim) {
  return at::var_mean_out(out0, out1, self, dim, ::chara::correction_of(correction), keepdim);
}

// squeeze over several dims (2.x) -> one dim at a time, highest first.
inline at::Tensor squeeze(const at::Tensor &self, at::IntArrayRef dims) {
  std::vector<int64_t> ds;
  for (auto d : dims) ds.push_back(c10::maybe_wrap_dim(d, self.dim()));
  std::sort(ds.begin(), ds.end());
  ds.erase(std::unique(ds.begin(), ds.end()), ds.end());
  at::Tensor r = self;
  for (auto it = ds.rbegin(); it != ds.rend(); ++it) r = r.squeeze(*it);
  return r;
}
inline at::Tensor squeeze_copy(const at::Tensor &self, at::IntArrayRef dims) {
  return squeeze(self, dims).clone(at::MemoryFormat::Contiguous);
}
inline at::Tensor &squeeze_copy_out(at::Tensor &out, const at::Tensor &self, at::IntArrayRef dims) {
  auto r = squeeze(self, dims);
  out.resize_(r.sizes());
  out.copy_(r);
  return out;
}

// Ops added after 1.13 that are compositions of 1.13 ops.
inline at::Tensor _is_all_true(const at::Tensor &self) { return self.all(); }
inline at::Tensor _is_any_true(const at::Tensor &self) { return self.any(); }
inline at::Tensor _reshape_copy(const at::Tensor &self, at::IntArrayRef size) {
  return at::reshape(self, size).clone(at::MemoryFormat::Contiguous);
}
inline at::Tensor _unsafe_index(const at::Tensor &self, const c10::List<c10::optional<at::Tensor>> &indices) {
  return at::index(self, indices);
}
inline at::Tensor _unsafe_index_put(const at::Tensor &self, const c10::List<c10::optional<at::Tensor>> &indices, const at::Tensor &values, bool accumulate) {
  return at::index_put(self, indices, values, accumulate);
}
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> _native_batch_norm_legit(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias, at::Tensor &running_mean, at::Tensor &running_var, bool training, double momentum, double eps) {
  return at::native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps);
}
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> _native_batch_norm_legit(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias, bool training, double momentum, double eps) {
  if (!training) ::chara::unavailable("_native_batch_norm_legit without running stats in eval mode");
  return at::native_batch_norm(input, weight, bias, at::Tensor(), at::Tensor(), true, momentum, eps);
}
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> _native_batch_norm_legit_no_training(const at::Tensor &input, const at::Tensor &weight, const at::Tensor &bias, const at::Tensor &running_mean, const at::Tensor &running_var, double momentum, double eps) {
  return at::native_batch_norm(input, weight, bias, running_mean, running_var, false, momentum, eps);
}
// scaled_dot_product_attention, the math path of 2.x.
inline at::Tensor scaled_dot_product_attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &attn_mask, double dropout_p, bool is_causal, c10::optional<double> scale) {
  double s = scale.has_value() ? *scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto attn = at::matmul(q, k.transpose(-2, -1)) * s;
  const auto neg_inf = -std::numeric_limits<double>::infinity();
  if (is_causal) {
    auto causal = at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril();
    attn = attn.masked_fill(causal.logical_not(), neg_inf);
  }
  if (attn_mask.defined()) {
    if (attn_mask.scalar_type() == at::kBool) {
      attn = attn.masked_fill(attn_mask.logical_not(), neg_inf);
    } else {
      attn = attn + attn_mask;
    }
  }
  attn = at::softmax(attn, -1);
  if (dropout_p > 0) attn = at::dropout(attn, dropout_p, true);
  return at::matmul(attn, v);
}
} // namespace torch

// ---- stubs: ops 1.13 does not have ----
CHARA_MISSING(_cslt_compress)
CHARA_MISSING(_cslt_sparse_mm)
CHARA_MISSING(_efficient_attention_backward)
CHARA_MISSING(_fill_mem_eff_dropout_mask_)
CHARA_MISSING(_flash_attention_backward)
CHARA_MISSING(_functional_assert_async)
CHARA_MISSING(_functional_sym_constrain_range)
CHARA_MISSING(_functional_sym_constrain_range_for_size)
CHARA_MISSING(_fused_sdp_choice)
CHARA_MISSING(_int_mm)
CHARA_MISSING(_int_mm_out)
CHARA_MISSING(_make_dep_token)
CHARA_MISSING(_native_batch_norm_legit_functional)
CHARA_MISSING(_native_batch_norm_legit_no_training_out)
CHARA_MISSING(_native_batch_norm_legit_out)
CHARA_MISSING(_prelu_kernel)
CHARA_MISSING(_prelu_kernel_backward)
CHARA_MISSING(_propagate_xla_data)
CHARA_MISSING(_scaled_dot_product_efficient_attention)
CHARA_MISSING(_scaled_dot_product_flash_attention_backward)
CHARA_MISSING(_scaled_mm)
CHARA_MISSING(_scaled_mm_out)
CHARA_MISSING(_sparse_mask_projection_out)
CHARA_MISSING(_sparse_mm_reduce_impl)
CHARA_MISSING(_sparse_semi_structured_linear)
CHARA_MISSING(_test_check_tensor)
CHARA_MISSING(_test_functorch_fallback)
CHARA_MISSING(_test_functorch_fallback_out)
CHARA_MISSING(_to_sparse_bsc_out)
CHARA_MISSING(_to_sparse_bsr_out)
CHARA_MISSING(_to_sparse_csc_out)
CHARA_MISSING(_to_sparse_csr_out)
CHARA_MISSING(_to_sparse_out)
CHARA_MISSING(_to_sparse_semi_structured)
CHARA_MISSING(empty_permuted)
CHARA_MISSING(empty_permuted_out)
CHARA_MISSING(max_pool2d_backward)
CHARA_MISSING(max_pool2d_backward_out)
CHARA_MISSING(mkldnn_rnn_layer)
CHARA_MISSING(mkldnn_rnn_layer_backward)
CHARA_MISSING(mkldnn_rnn_layer_backward_out)
CHARA_MISSING(mkldnn_rnn_layer_out)
CHARA_MISSING(nonzero_static)
CHARA_MISSING(nonzero_static_out)
CHARA_MISSING(quantized_max_pool3d)
CHARA_MISSING(quantized_max_pool3d_out)
CHARA_MISSING(sym_constrain_range)
CHARA_MISSING(sym_constrain_range_for_size)
CHARA_MISSING(_lstm_mps_6) // see the _lstm_mps macro below

// ---- stubs: ops 1.13 has, with other arguments ----
CHARA_CHANGED_AT(_ctc_loss_out)
CHARA_CHANGED_AT(_nested_view_from_buffer)
CHARA_CHANGED_AT(_nested_view_from_buffer_copy)
CHARA_CHANGED_AT(_nested_view_from_buffer_copy_out)
CHARA_CHANGED_AT(_scaled_dot_product_attention_math)
CHARA_CHANGED_AT(_lstm_mps_out)
CHARA_CHANGED_AT(_sparse_mm)
CHARA_CHANGED_AT(_sparse_coo_tensor_with_dims_and_tensors_out)
CHARA_CHANGED_AT(_to_dense_out)
CHARA_CHANGED_AT(mkldnn_reorder_conv2d_weight)
CHARA_CHANGED_AT(mkldnn_reorder_conv2d_weight_out)
CHARA_CHANGED_AT(to_dense_backward)
CHARA_CHANGED_AT(max_out)
CHARA_CHANGED_AT(min_out)
CHARA_CHANGED_TORCH(sparse_coo_tensor)
CHARA_CHANGED_TORCH(_sparse_coo_tensor_unsafe)
CHARA_CHANGED_TORCH(_sparse_coo_tensor_with_dims_and_tensors)

// ---- member calls ----
// _lstm_mps returns 6 tensors in 2.x and 5 in 1.13.
#define _lstm_mps(...) _lstm_mps_6(__VA_ARGS__)
// masked_grad (2.x) only matters for masked sparse gradients.
#define to_dense(dtype, masked_grad) to_dense(dtype)
#define _to_dense(dtype, masked_grad) _to_dense(dtype)
#define squeeze_(...) squeeze_(__VA_OPT__(::chara::one_dim(__VA_ARGS__)))
#define CHARA_ARGC(...) CHARA_ARGC_(__VA_ARGS__, 3, 2, 1, 0)
#define CHARA_ARGC_(a, b, c, n, ...) n
#define CHARA_CAT(a, b) CHARA_CAT_(a, b)
#define CHARA_CAT_(a, b) a##b
#define to_sparse(...) CHARA_CAT(CHARA_TO_SPARSE_, CHARA_ARGC(__VA_ARGS__))(__VA_ARGS__)
#define CHARA_TO_SPARSE_1(sparse_dim) to_sparse(sparse_dim)
#define CHARA_TO_SPARSE_3(layout, blocksize, dense_dim) add(::chara::unavailable_tensor("to_sparse(layout, blocksize, dense_dim)"))
#define to_sparse_bsr(blocksize, dense_dim) to_sparse_bsr(::chara::no_dense_dim(blocksize, dense_dim))
#define to_sparse_bsc(blocksize, dense_dim) to_sparse_bsc(::chara::no_dense_dim(blocksize, dense_dim))
#define to_sparse_csr(...) add(::chara::unavailable_tensor("to_sparse_csr(dense_dim)"))
#define to_sparse_csc(...) add(::chara::unavailable_tensor("to_sparse_csc(dense_dim)"))
#define _to_sparse(...) add(::chara::unavailable_tensor("_to_sparse"))
#define _to_sparse_csr(...) add(::chara::unavailable_tensor("_to_sparse_csr"))
#define _to_sparse_csc(...) add(::chara::unavailable_tensor("_to_sparse_csc"))
#define _to_sparse_bsr(...) add(::chara::unavailable_tensor("_to_sparse_bsr"))
#define _to_sparse_bsc(...) add(::chara::unavailable_tensor("_to_sparse_bsc"))
#define _sparse_mask_projection(...) add(::chara::unavailable_tensor("_sparse_mask_projection"))

#endif // CHARA_TORCH_COMPAT_1_H
