// The emulated device's scheduler (see emulated-device.hpp).
//
// A block's threads run as fibers while a kernel may synchronise: each runs
// until it waits at __syncthreads or a shuffle, or returns; a barrier
// releases its block when every live thread has arrived, a shuffle its warp
// when every lane of the mask has. Anything that can no longer complete (a
// lane gone, threads waiting at different barriers) is a bug in the kernel
// and stops the program with the kernel, block and thread named.
#include "emulated-device.hpp"

#include "emulated-cuda.h"

#include <glib.h>
#include <sys/mman.h>

#include <mutex>
#include <unordered_map>
#include <vector>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;

namespace sc_emu {

namespace {

// ---- Context switches ----

// A fiber's stack: deep enough for the kernels' device functions and for
// GLib's logging when one of them fails.
const size_t STACK_BYTES = 256 * 1024;
const size_t GUARD_BYTES = 4096;

#if defined(__x86_64__)
// Saves the callee-saved registers on the current stack, stores its
// pointer in *save and continues on the stack `load` saved the same way.
extern "C" void sc_emu_switch(void **save, void *load);
asm(".text\n"
    ".globl sc_emu_switch\n"
    ".type sc_emu_switch, @function\n"
    "sc_emu_switch:\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    ".size sc_emu_switch, .-sc_emu_switch\n"
    ".section .note.GNU-stack,\"\",@progbits\n"
    ".text\n");

struct Context {
  void *sp = nullptr;
};

void
context_init(Context *c, char *stack, size_t bytes, void (*entry)(void))
{
  // A frame sc_emu_switch "returns" from into entry, with the stack
  // aligned as at a function's first instruction (rsp % 16 == 8).
  uintptr_t top = ((uintptr_t)(stack + bytes)) & ~(uintptr_t)15;
  void **sp = (void **)top;
  *--sp = nullptr;
  *--sp = (void *)entry;
  for (int r = 0; r < 6; r++)
    *--sp = nullptr;
  c->sp = sp;
}

void
context_switch(Context *from, Context *to)
{
  sc_emu_switch(&from->sp, to->sp);
}
#else
struct Context {
  ucontext_t uc;
};

void
context_init(Context *c, char *stack, size_t bytes, void (*entry)(void))
{
  getcontext(&c->uc);
  c->uc.uc_stack.ss_sp = stack;
  c->uc.uc_stack.ss_size = bytes;
  c->uc.uc_link = nullptr;
  makecontext(&c->uc, entry, 0);
}

void
context_switch(Context *from, Context *to)
{
  swapcontext(&from->uc, &to->uc);
}
#endif

// ---- State of the launch in progress ----

enum FiberState { READY, AT_BARRIER, AT_SHUFFLE, EXITED };

struct Fiber {
  Context context;
  char *stack = nullptr;
  uint3 index{};
  int linear = 0;
  FiberState state = EXITED;
  int wait_line = 0;
  // The shuffle it waits in: its value, and what it asked for.
  uint64_t bits = 0, result = 0;
  unsigned mask = 0;
  ShuffleKind kind = SHUFFLE_IDX;
  int param = 0, width = 32;
};

struct Kernel {
  bool may_synchronise = true; // until a whole launch ran without
};

std::mutex launch_lock;
std::unordered_map<uintptr_t, Kernel> kernels;

Context scheduler;
std::vector<Fiber> fibers; // grown to the largest block seen, kept
const char *kernel_name;
void (*thread_fn)(void *);
void *thread_ctx;
bool as_fibers;      // this launch's threads are fibers
bool synchronised;   // a barrier or shuffle happened in this launch
Fiber *current;
int n_threads, live, at_barrier;
int barrier_line;
std::vector<uint32_t> warp_arrived; // per warp: lanes waiting in a shuffle
std::vector<uint32_t> warp_exited;  // per warp: lanes that have returned

void thread_exited(Fiber *f);

// From f, which waits or has returned, straight on to the next thread of
// the block that can run; to the scheduler when none can (the block is
// done, or stuck).
void
run_next(Fiber *f)
{
  for (int k = 1; k < n_threads; k++) {
    int t = f->linear + k;
    Fiber *g = &fibers[t < n_threads ? t : t - n_threads];
    if (g->state == READY) {
      current = g;
      threadIdx = g->index;
      context_switch(&f->context, &g->context);
      return;
    }
  }
  context_switch(&f->context, &scheduler);
}

void
fiber_main(void)
{
  for (;;) {
    thread_fn(thread_ctx);
    Fiber *self = current;
    self->state = EXITED;
    warp_exited[self->linear / 32] |= 1u << (self->linear % 32);
    // Leaving releases a barrier the remaining threads all wait at, and
    // strands a shuffle that counted on this lane.
    live--;
    thread_exited(self);
    run_next(self);
  }
}

void
ensure_fibers(int n)
{
  // Never reallocated: a fiber's saved context may point into itself.
  fibers.reserve(1024);
  while ((int)fibers.size() < n) {
    Fiber f;
    // A guard page below each stack turns an overflow into a fault.
    void *mem = mmap(nullptr, STACK_BYTES + GUARD_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
      g_error("emulated device: no memory for a thread's stack");
    mprotect(mem, GUARD_BYTES, PROT_NONE);
    f.stack = (char *)mem + GUARD_BYTES;
    // Stack tops at staggered offsets: equal ones would share cache sets.
    size_t stagger = fibers.size() % 64 * 576;
    context_init(&f.context, f.stack, STACK_BYTES - stagger, fiber_main);
    fibers.push_back(f);
  }
}

// "kernel k, block (x, y, z), thread (x, y, z)" of fiber f (or the current
// thread when f is null).
gchar *
describe(const Fiber *f)
{
  uint3 t = f != nullptr ? f->index : threadIdx;
  return g_strdup_printf("kernel %s, block (%u, %u, %u), thread (%u, %u, %u)", kernel_name,
                         blockIdx.x, blockIdx.y, blockIdx.z, t.x, t.y, t.z);
}

[[noreturn]] void
fail(const Fiber *f, const char *what)
{
  g_autofree gchar *who = describe(f);
  g_error("emulated device: %s: %s", who, what);
}

// Called by a thread that is about to wait: true when this launch runs it
// as a fiber; a kernel run as plain calls has no way to wait.
void
enter_wait(const char *what, int line)
{
  if (!as_fibers) {
    g_autofree gchar *msg = g_strdup_printf(
      "%s at line %d: this kernel ran a whole launch without synchronising, so the "
      "emulator now runs its threads as plain calls; a kernel that synchronises only "
      "in some launches needs the emulator to keep fibers for it",
      what, line);
    fail(nullptr, msg);
  }
  synchronised = true;
}

void
release_barrier(void)
{
  for (int t = 0; t < n_threads; t++)
    if (fibers[t].state == AT_BARRIER)
      fibers[t].state = READY;
  at_barrier = 0;
  barrier_line = 0;
}

// Lanes of warp w that exist in this block.
uint32_t
warp_lanes(int w)
{
  int first = w * 32, n = MIN(32, n_threads - first);
  return n >= 32 ? 0xffffffffu : ((1u << n) - 1u);
}

// The lane whose value lane `lane` receives in its shuffle.
int
source_lane(const Fiber *f, int lane)
{
  int width = f->width, base = lane - lane % width;
  switch (f->kind) {
  case SHUFFLE_IDX:
    return base + ((f->param % width) + width) % width;
  case SHUFFLE_UP:
    return lane - f->param >= base ? lane - f->param : lane;
  case SHUFFLE_DOWN:
    return lane + f->param < base + width ? lane + f->param : lane;
  case SHUFFLE_XOR:
    return (lane ^ f->param) < base + width ? lane ^ f->param : lane;
  }
  return lane;
}

// Every lane of the mask has arrived: hand out the values.
void
complete_shuffle(int w)
{
  Fiber *lanes = &fibers[(size_t)w * 32];
  uint32_t mask = warp_arrived[w];
  for (int l = 0; l < 32; l++) {
    if (!(mask & (1u << l)))
      continue;
    int src = source_lane(&lanes[l], l);
    if (!(mask & (1u << src))) {
      g_autofree gchar *msg =
        g_strdup_printf("shuffle at line %d reads lane %d, which is not in the mask 0x%08x",
                        lanes[l].wait_line, src, lanes[l].mask);
      fail(&lanes[l], msg);
    }
    lanes[l].result = lanes[src].bits;
  }
  for (int l = 0; l < 32; l++)
    if (mask & (1u << l))
      lanes[l].state = READY;
  warp_arrived[w] = 0;
}

// A shuffle waiting in fiber f's warp for lanes of which one has left.
void
check_stranded_shuffle(const Fiber *gone)
{
  int w = gone->linear / 32, lane = gone->linear % 32;
  if (warp_arrived[w] == 0)
    return;
  const Fiber *waiting = &fibers[(size_t)w * 32 + __builtin_ctz(warp_arrived[w])];
  if (waiting->mask & (1u << lane)) {
    g_autofree gchar *msg = g_strdup_printf(
      "the shuffle at line %d cannot complete: lane %d of its mask 0x%08x has returned",
      waiting->wait_line, lane, waiting->mask);
    fail(waiting, msg);
  }
}

void
thread_exited(Fiber *f)
{
  check_stranded_shuffle(f);
  if (at_barrier > 0 && at_barrier == live)
    release_barrier();
}

} // namespace

// ---- Intrinsics ----

void
barrier(int line)
{
  enter_wait("__syncthreads", line);
  Fiber *f = current;
  if (at_barrier > 0 && line != barrier_line) {
    g_autofree gchar *msg = g_strdup_printf(
      "__syncthreads at line %d while other threads of the block wait at the one at line %d "
      "(a barrier in divergent code)",
      line, barrier_line);
    fail(f, msg);
  }
  barrier_line = line;
  if (++at_barrier == live) {
    // The last to arrive goes on at once; the others follow.
    release_barrier();
    return;
  }
  f->state = AT_BARRIER;
  f->wait_line = line;
  run_next(f);
}

uint64_t
shuffle(unsigned mask, uint64_t bits, ShuffleKind kind, int param, int width, int line)
{
  enter_wait("a warp shuffle", line);
  Fiber *f = current;
  int w = f->linear / 32, lane = f->linear % 32;
  if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
    g_autofree gchar *msg = g_strdup_printf("shuffle at line %d with width %d", line, width);
    fail(f, msg);
  }
  if (!(mask & (1u << lane)) || (mask & ~warp_lanes(w)) != 0) {
    g_autofree gchar *msg = g_strdup_printf(
      "shuffle at line %d with mask 0x%08x: it must hold the calling lane %d and only lanes "
      "the block has (0x%08x)",
      line, mask, lane, warp_lanes(w));
    fail(f, msg);
  }
  if (warp_arrived[w] != 0) {
    const Fiber *other = &fibers[(size_t)w * 32 + __builtin_ctz(warp_arrived[w])];
    if (other->mask != mask) {
      g_autofree gchar *msg = g_strdup_printf(
        "shuffle at line %d with mask 0x%08x while lanes of the warp wait in one at line %d "
        "with mask 0x%08x",
        line, mask, other->wait_line, other->mask);
      fail(f, msg);
    }
  }
  if (mask & warp_exited[w]) {
    g_autofree gchar *msg = g_strdup_printf(
      "the shuffle at line %d cannot complete: lane %d of its mask 0x%08x has returned",
      line, __builtin_ctz(mask & warp_exited[w]), mask);
    fail(f, msg);
  }
  f->bits = bits;
  f->mask = mask;
  f->kind = kind;
  f->param = param;
  f->width = width;
  f->wait_line = line;
  f->state = AT_SHUFFLE;
  warp_arrived[w] |= 1u << lane;
  if (warp_arrived[w] == mask)
    complete_shuffle(w);
  else
    run_next(f);
  return f->result;
}

// ---- Running a grid ----

namespace {

gboolean
configuration_ok(dim3 grid, dim3 block, size_t shared_bytes)
{
  uint64_t threads = (uint64_t)block.x * block.y * block.z;
  return block.x >= 1 && block.y >= 1 && block.z >= 1 && block.x <= 1024 && block.y <= 1024
         && block.z <= 64 && threads <= 1024 && grid.x >= 1 && grid.x <= 0x7fffffffu
         && grid.y >= 1 && grid.y <= 65535 && grid.z >= 1 && grid.z <= 65535
         && shared_bytes <= 48 * 1024;
}

void
set_thread_index(int t, const dim3 &block)
{
  threadIdx.x = (unsigned)t % block.x;
  threadIdx.y = (unsigned)t / block.x % block.y;
  threadIdx.z = (unsigned)t / (block.x * block.y);
}

void
run_block_plain(const dim3 &block)
{
  for (unsigned z = 0; z < block.z; z++)
    for (unsigned y = 0; y < block.y; y++)
      for (unsigned x = 0; x < block.x; x++) {
        threadIdx.x = x;
        threadIdx.y = y;
        threadIdx.z = z;
        thread_fn(thread_ctx);
      }
}

// Nothing can run, yet threads wait: say who waits where.
[[noreturn]] void
fail_stuck(void)
{
  const Fiber *at_bar = nullptr, *at_shfl = nullptr;
  for (int t = 0; t < n_threads; t++) {
    if (fibers[t].state == AT_BARRIER && at_bar == nullptr)
      at_bar = &fibers[t];
    if (fibers[t].state == AT_SHUFFLE && at_shfl == nullptr)
      at_shfl = &fibers[t];
  }
  g_autofree gchar *msg = NULL;
  if (at_bar != nullptr && at_shfl != nullptr) {
    g_autofree gchar *other = describe(at_shfl);
    msg = g_strdup_printf("waits at __syncthreads (line %d) while %s waits in a shuffle at "
                          "line %d: neither can complete",
                          at_bar->wait_line, other, at_shfl->wait_line);
  } else if (at_shfl != nullptr) {
    msg = g_strdup_printf("the shuffle at line %d cannot complete (lanes of mask 0x%08x "
                          "never arrive)",
                          at_shfl->wait_line, at_shfl->mask);
  } else {
    msg = g_strdup_printf("__syncthreads at line %d cannot complete", at_bar->wait_line);
  }
  fail(at_bar != nullptr ? at_bar : at_shfl, msg);
}

void
run_block_fibers(const dim3 &block)
{
  ensure_fibers(n_threads);
  warp_arrived.assign((size_t)(n_threads + 31) / 32, 0);
  warp_exited.assign((size_t)(n_threads + 31) / 32, 0);
  for (int t = 0; t < n_threads; t++) {
    Fiber &f = fibers[t];
    set_thread_index(t, block);
    f.index = threadIdx;
    f.linear = t;
    f.state = READY;
  }
  live = n_threads;
  at_barrier = 0;
  barrier_line = 0;
  // The threads pass control among themselves (run_next) and come back
  // here when none can run.
  current = &fibers[0];
  threadIdx = fibers[0].index;
  context_switch(&scheduler, &fibers[0].context);
  if (live > 0)
    fail_stuck();
}

} // namespace

void
run_grid(uintptr_t kernel_id, const char *name, dim3 grid, dim3 block, size_t shared_bytes,
         cudaStream_t stream, void (*thread)(void *), void *ctx)
{
  if (!configuration_ok(grid, block, shared_bytes)) {
    g_debug("emulated device: %s: launch of (%u, %u, %u) blocks of (%u, %u, %u) threads, "
            "%zu bytes of shared memory refused",
            name, grid.x, grid.y, grid.z, block.x, block.y, block.z, shared_bytes);
    sc_emu_set_last_error(cudaErrorInvalidConfiguration);
    return;
  }
  if (!sc_emu_stream_valid(stream)) {
    sc_emu_set_last_error(cudaErrorInvalidResourceHandle);
    return;
  }
  std::lock_guard<std::mutex> hold(launch_lock);
  Kernel &kernel = kernels[kernel_id];
  kernel_name = name;
  thread_fn = thread;
  thread_ctx = ctx;
  as_fibers = kernel.may_synchronise;
  synchronised = false;
  n_threads = (int)(block.x * block.y * block.z);
  gridDim = grid;
  blockDim = block;
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++) {
        blockIdx.x = x;
        blockIdx.y = y;
        blockIdx.z = z;
        if (as_fibers)
          run_block_fibers(block);
        else
          run_block_plain(block);
      }
  if (as_fibers && !synchronised)
    kernel.may_synchronise = false;
  current = nullptr;
  as_fibers = false;
}

} // namespace sc_emu
