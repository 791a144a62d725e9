#include "protocol/reply_writer.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/store/store.h"

namespace mcha {
namespace {
constexpr size_t kBlockSize = 16 * 1024;
constexpr size_t kZeroCopyMin = 512;
}  // namespace

Writer::~Writer() {
  release_held();
  release_refs_from(0);
  free_blocks_from(0);
}

void Writer::close_run() {
  if (cur_len_ > run_start_) {
    bufs_.push_back(uv_buf_init(cur_ + run_start_, static_cast<unsigned int>(cur_len_ - run_start_)));
    run_start_ = cur_len_;
  }
}

void Writer::text(const char* p, size_t n) {
  if (n == 0) return;
  if (cur_len_ + n > cur_cap_) {
    close_run();
    size_t cap = n > kBlockSize ? n : kBlockSize;
    char* block = static_cast<char*>(malloc(cap));
    if (!block) abort();
    blocks_.push_back(block);
    cur_ = block;
    cur_cap_ = cap;
    cur_len_ = run_start_ = 0;
  }
  memcpy(cur_ + cur_len_, p, n);
  cur_len_ += n;
  pending_ += n;
}

void Writer::line(std::string_view s) {
  text(s);
  text("\r\n", 2);
}

void Writer::number(uint64_t v) {
  char buf[24];
  char* end = buf + sizeof(buf);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  text(p, static_cast<size_t>(end - p));
}

void Writer::value(Item* it) {
  value_bytes(it);
  text("\r\n", 2);
}

void Writer::value_bytes(Item* it) {
  if (it->nvalue >= kZeroCopyMin) {
    close_run();
    bufs_.push_back(uv_buf_init(it->value(), it->nvalue));
    store_.retain(it);
    refs_.push_back(it);
    pending_ += it->nvalue;
  } else {
    text(it->value(), it->nvalue);
  }
}

void Writer::mark() {
  release_held();
  close_run();
  mark_ = {bufs_.size(), refs_.size(), blocks_.size(), cur_len_, cur_cap_, pending_, cur_};
}

void Writer::discard() {
  release_held();
  bufs_.resize(mark_.bufs);
  release_refs_from(mark_.refs);
  free_blocks_from(mark_.blocks);
  cur_ = mark_.cur;
  cur_len_ = run_start_ = mark_.cur_len;
  cur_cap_ = mark_.cur_cap;
  pending_ = mark_.pending;
}

void Writer::hold(Item* it) {
  store_.retain(it);
  held_.push_back(it);
}

bool Writer::holds(const Item* it) const {
  for (const Item* h : held_) {
    if (h == it) return true;
  }
  return false;
}

void Writer::release_held() {
  for (Item* it : held_) store_.release(it);
  held_.clear();
}

void Writer::release_refs_from(size_t i) {
  for (size_t k = i; k < refs_.size(); k++) store_.release(refs_[k]);
  refs_.resize(i < refs_.size() ? i : refs_.size());
}

void Writer::free_blocks_from(size_t i) {
  for (size_t k = i; k < blocks_.size(); k++) free(blocks_[k]);
  blocks_.resize(i < blocks_.size() ? i : blocks_.size());
}

size_t Writer::try_write(uv_stream_t* s) {
  close_run();
  if (bufs_.empty()) return 0;
  // uv_try_write writes at most IOV_MAX buffers; a partial write leaves the rest to take().
  int n = uv_try_write(s, bufs_.data(), static_cast<unsigned int>(bufs_.size()));
  if (n <= 0) return 0;  // EAGAIN, or an error uv_write will report
  size_t wrote = static_cast<size_t>(n);
  if (wrote == pending_) {
    recycle();
    return wrote;
  }
  size_t i = 0, left = wrote;
  while (left >= bufs_[i].len) left -= bufs_[i++].len;
  bufs_.erase(bufs_.begin(), bufs_.begin() + static_cast<std::ptrdiff_t>(i));
  bufs_[0].base += left;
  bufs_[0].len -= left;
  pending_ -= wrote;
  // A mark counts buffers from the front: none is left that discard() could return to.
  mark_ = Mark();
  return wrote;
}

void Writer::recycle() {
  release_refs_from(0);
  char* keep = nullptr;
  if (cur_ && cur_cap_ == kBlockSize && blocks_.back() == cur_) {
    keep = cur_;
    blocks_.pop_back();
  }
  free_blocks_from(0);
  bufs_.clear();
  pending_ = 0;
  cur_ = keep;
  cur_cap_ = keep ? kBlockSize : 0;
  cur_len_ = run_start_ = 0;
  if (keep) blocks_.push_back(keep);
  mark_ = Mark();
}

WriteBatch* Writer::take() {
  close_run();
  auto* b = new WriteBatch();
  b->bufs.swap(bufs_);
  b->refs.swap(refs_);
  b->blocks.swap(blocks_);
  b->bytes = pending_;
  // The current block now belongs to the batch: the next text starts a new one.
  cur_ = nullptr;
  cur_len_ = cur_cap_ = run_start_ = pending_ = 0;
  mark_ = Mark();
  return b;
}

WriteBatch* Writer::take_marked() {
  close_run();
  size_t marked = mark_.bufs;
  if (marked == 0) return nullptr;
  size_t marked_bytes = mark_.pending;
  std::string tail;
  for (size_t i = marked; i < bufs_.size(); i++) tail.append(bufs_[i].base, bufs_[i].len);
  WriteBatch* b = take();
  b->bufs.resize(marked);
  b->bytes = marked_bytes;
  text(tail.data(), tail.size());
  return b;
}

void Writer::finish(WriteBatch* b) {
  for (Item* it : b->refs) store_.release(it);
  for (char* block : b->blocks) free(block);
  delete b;
}

}  // namespace mcha
