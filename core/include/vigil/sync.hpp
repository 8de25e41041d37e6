// SPDX-License-Identifier: Apache-2.0
// A mutex and its lock that Clang's thread-safety analysis understands (as Envoy wraps absl's),
// so that "this member is only touched under that mutex" is checked by the compiler: scripts/lint
// builds every file with -Wthread-safety, warnings as errors. Annotate a member with
// VIGIL_GUARDED_BY(mutex_), a function that expects the lock with VIGIL_REQUIRES(mutex_). With
// GCC the annotations are empty. Header-only: no part of the plugin ABI.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__clang__)
#define VIGIL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define VIGIL_THREAD_ANNOTATION(x)
#endif
#define VIGIL_CAPABILITY(x) VIGIL_THREAD_ANNOTATION(capability(x))
#define VIGIL_SCOPED_CAPABILITY VIGIL_THREAD_ANNOTATION(scoped_lockable)
#define VIGIL_GUARDED_BY(x) VIGIL_THREAD_ANNOTATION(guarded_by(x))
#define VIGIL_PT_GUARDED_BY(x) VIGIL_THREAD_ANNOTATION(pt_guarded_by(x))
#define VIGIL_REQUIRES(...) VIGIL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define VIGIL_ACQUIRE(...) VIGIL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define VIGIL_RELEASE(...) VIGIL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define VIGIL_TRY_ACQUIRE(...) VIGIL_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define VIGIL_EXCLUDES(...) VIGIL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define VIGIL_NO_THREAD_SAFETY_ANALYSIS VIGIL_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace vigil {

class VIGIL_CAPABILITY("mutex") Mutex {
  public:
    void lock() VIGIL_ACQUIRE() { mutex_.lock(); }
    void unlock() VIGIL_RELEASE() { mutex_.unlock(); }
    bool try_lock() VIGIL_TRY_ACQUIRE(true) { return mutex_.try_lock(); }
    std::mutex& native() { return mutex_; }

  private:
    std::mutex mutex_;
};

/// Holds a Mutex for a scope (or until unlock()).
class VIGIL_SCOPED_CAPABILITY Lock {
  public:
    explicit Lock(Mutex& mutex) VIGIL_ACQUIRE(mutex) : lock_(mutex.native()) {}
    ~Lock() VIGIL_RELEASE() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    /// Lets go before the scope ends (to call out without the lock).
    void unlock() VIGIL_RELEASE() { lock_.unlock(); }
    /// For std::condition_variable: a wait lets go of the mutex and takes it back before it
    /// returns, so the analysis' view (held throughout the scope) is what the code after it sees.
    /// A wait's predicate runs under the lock: annotate it VIGIL_REQUIRES too.
    std::unique_lock<std::mutex>& native() { return lock_; }

  private:
    std::unique_lock<std::mutex> lock_;
};

/// The stop idiom, written once: sets `*flag` under `mutex`, wakes every waiter of `wake`, and
/// joins `threads` (each that runs). The flag is passed by address so that the caller need not
/// hold the mutex to name it; the analysis cannot follow the pointer, hence its exemption.
inline void stop_and_join(Mutex& mutex, bool* flag, std::condition_variable& wake,
                          std::vector<std::thread>& threads) VIGIL_NO_THREAD_SAFETY_ANALYSIS {
    {
        Lock lock(mutex);
        *flag = true;
    }
    wake.notify_all();
    for (auto& t : threads) {
        if (t.joinable()) {
            t.join();
        }
    }
}
inline void stop_and_join(Mutex& mutex, bool* flag, std::condition_variable& wake, std::thread& thread) {
    std::vector<std::thread> one;
    if (thread.joinable()) {
        one.push_back(std::move(thread));
    }
    stop_and_join(mutex, flag, wake, one);
}

}  // namespace vigil
