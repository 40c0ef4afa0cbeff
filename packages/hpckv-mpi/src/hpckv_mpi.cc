// hpckv's MPI addon: the few MPI calls the `mpi` communicator backend needs, and nothing else.
//
//   init()             MPI_Init_thread asking for MPI_THREAD_MULTIPLE; hpckv's traffic then runs on
//                      a duplicate of MPI_COMM_WORLD (errors returned, not fatal)
//   isend(d, tag, b)   MPI_Isend of a Buffer, which is kept referenced until the send completes
//   poll(max)          completes finished sends (MPI_Testsome, releasing their Buffers), then
//                      receives up to `max` messages by matched probe (MPI_Improbe + MPI_Mrecv,
//                      so a probed message cannot be taken by another receive in between);
//                      returns a flat array [source, tag, Buffer, source, tag, Buffer, ...]
//   pendingSends()     sends not yet complete
//   barrier()          MPI_Barrier (blocking: only used at shutdown, after the drain)
//   finalize()         frees the communicator, MPI_Finalize
//   abort(code)        MPI_Abort on MPI_COMM_WORLD
//   state()            'uninitialized' | 'active' | 'finalized'
//
// Nothing blocks except barrier and finalize: JavaScript polls from its event loop (see
// core/comm/mpi-endpoint.ts). All calls come from the main JavaScript thread.
//
// Exit guard: a process that exits after init without finalize (process.exit, an uncaught
// error) calls MPI_Abort from an atexit handler, so mpirun ends the whole job at once instead of
// the other ranks waiting for this one forever in a collective or in MPI_Finalize.

// The C API only: the deprecated C++ bindings would need libmpi_cxx (see binding.gyp's defines).
#include <mpi.h>
#include <napi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// MPI state is per process, so this is too. It is never freed: Buffers still referenced at exit
// belong to sends that will never complete, and their references must not be released after the
// JavaScript environment is gone.
struct State {
  MPI_Comm comm = MPI_COMM_NULL;
  // Parallel arrays: MPI_Testsome wants the requests contiguous.
  std::vector<MPI_Request> requests;
  std::vector<Napi::Reference<Napi::Buffer<uint8_t>>> buffers;
  std::vector<int> completed;
  bool guardInstalled = false;
};

State& state() {
  static State* s = new State();
  return *s;
}

std::string ErrorString(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text, length);
}

void Check(Napi::Env env, int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Napi::Error::New(env, std::string(what) + ": " + ErrorString(rc));
}

bool Active() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

void RequireActive(Napi::Env env) {
  if (!Active() || state().comm == MPI_COMM_NULL) throw Napi::Error::New(env, "MPI is not initialized (call init first)");
}

int IntArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[index].As<Napi::Number>().Int32Value();
}

void ExitGuard() {
  if (!Active()) return;
  std::fprintf(stderr, "hpckv-mpi: process exiting without MPI_Finalize (the mpi communicator was not closed); "
                       "calling MPI_Abort so the job ends instead of hanging\n");
  MPI_Abort(MPI_COMM_WORLD, 1);
}

const char* ThreadLevelName(int level) {
  if (level == MPI_THREAD_MULTIPLE) return "multiple";
  if (level == MPI_THREAD_SERIALIZED) return "serialized";
  if (level == MPI_THREAD_FUNNELED) return "funneled";
  return "single";
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (finalized) throw Napi::Error::New(env, "MPI was finalized in this process and cannot be initialized again");
  if (initialized) throw Napi::Error::New(env, "MPI is already initialized in this process");
  int provided = MPI_THREAD_SINGLE;
  Check(env, MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
  State& s = state();
  if (!s.guardInstalled) {
    std::atexit(ExitGuard);
    s.guardInstalled = true;
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  Check(env, MPI_Comm_dup(MPI_COMM_WORLD, &s.comm), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(s.comm, MPI_ERRORS_RETURN);
  int rank = 0;
  int size = 0;
  Check(env, MPI_Comm_rank(s.comm, &rank), "MPI_Comm_rank");
  Check(env, MPI_Comm_size(s.comm, &size), "MPI_Comm_size");
  int major = 0;
  int minor = 0;
  MPI_Get_version(&major, &minor);
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int libraryLength = 0;
  MPI_Get_library_version(library, &libraryLength);
  // Some implementations count the terminating NUL in the length: stop at the first one.
  std::string libraryText(library, strnlen(library, libraryLength));
  // The first line names the implementation and version; the rest is build detail.
  libraryText = libraryText.substr(0, libraryText.find_first_of("\r\n"));

  Napi::Object result = Napi::Object::New(env);
  result.Set("rank", rank);
  result.Set("size", size);
  result.Set("threadLevel", ThreadLevelName(provided));
  result.Set("mpiVersion", std::to_string(major) + "." + std::to_string(minor));
  result.Set("library", libraryText);
  return result;
}

Napi::Value Isend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireActive(env);
  int dest = IntArg(info, 0, "dest");
  int tag = IntArg(info, 1, "tag");
  if (info.Length() < 3 || !info[2].IsBuffer()) throw Napi::TypeError::New(env, "data must be a Buffer");
  auto data = info[2].As<Napi::Buffer<uint8_t>>();
  if (data.Length() > static_cast<size_t>(INT_MAX)) throw Napi::RangeError::New(env, "message larger than INT_MAX bytes");
  State& s = state();
  MPI_Request request = MPI_REQUEST_NULL;
  Check(env, MPI_Isend(data.Data(), static_cast<int>(data.Length()), MPI_BYTE, dest, tag, s.comm, &request), "MPI_Isend");
  s.requests.push_back(request);
  s.buffers.emplace_back(Napi::Persistent(data));
  return env.Undefined();
}

// Completes finished sends and drops their Buffers, keeping the others in order.
void ProgressSends(Napi::Env env, State& s) {
  int count = static_cast<int>(s.requests.size());
  if (count == 0) return;
  s.completed.resize(count);
  int done = 0;
  Check(env, MPI_Testsome(count, s.requests.data(), &done, s.completed.data(), MPI_STATUSES_IGNORE), "MPI_Testsome");
  if (done == 0 || done == MPI_UNDEFINED) return;
  size_t kept = 0;
  for (size_t i = 0; i < s.requests.size(); i++) {
    if (s.requests[i] == MPI_REQUEST_NULL) continue;  // completed: MPI_Testsome set it to null
    if (kept != i) {
      s.requests[kept] = s.requests[i];
      s.buffers[kept] = std::move(s.buffers[i]);
    }
    kept++;
  }
  s.requests.resize(kept);
  s.buffers.erase(s.buffers.begin() + kept, s.buffers.end());
}

Napi::Value Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireActive(env);
  int max = IntArg(info, 0, "maxMessages");
  State& s = state();
  ProgressSends(env, s);
  Napi::Array out = Napi::Array::New(env);
  uint32_t next = 0;
  for (int received = 0; received < max; received++) {
    int flag = 0;
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Status status;
    Check(env, MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, s.comm, &flag, &message, &status), "MPI_Improbe");
    if (!flag) break;
    int count = 0;
    Check(env, MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
    auto data = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(count));
    Check(env, MPI_Mrecv(data.Data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE), "MPI_Mrecv");
    out.Set(next++, status.MPI_SOURCE);
    out.Set(next++, status.MPI_TAG);
    out.Set(next++, data);
  }
  return out;
}

Napi::Value PendingSends(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(state().requests.size()));
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireActive(env);
  Check(env, MPI_Barrier(state().comm), "MPI_Barrier");
  return env.Undefined();
}

Napi::Value Finalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireActive(env);
  State& s = state();
  if (!s.requests.empty()) throw Napi::Error::New(env, std::to_string(s.requests.size()) + " sends are still pending");
  Check(env, MPI_Comm_free(&s.comm), "MPI_Comm_free");
  s.comm = MPI_COMM_NULL;
  Check(env, MPI_Finalize(), "MPI_Finalize");
  return env.Undefined();
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int code = IntArg(info, 0, "code");
  if (Active()) MPI_Abort(MPI_COMM_WORLD, code);
  return env.Undefined();
}

Napi::Value StateName(const Napi::CallbackInfo& info) {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return Napi::String::New(info.Env(), finalized ? "finalized" : initialized ? "active" : "uninitialized");
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("isend", Napi::Function::New(env, Isend, "isend"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("pendingSends", Napi::Function::New(env, PendingSends, "pendingSends"));
  exports.Set("barrier", Napi::Function::New(env, Barrier, "barrier"));
  exports.Set("finalize", Napi::Function::New(env, Finalize, "finalize"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  exports.Set("state", Napi::Function::New(env, StateName, "state"));
  return exports;
}

}  // namespace

NODE_API_MODULE(hpckv_mpi, Register)
