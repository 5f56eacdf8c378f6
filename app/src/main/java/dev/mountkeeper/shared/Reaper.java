package dev.mountkeeper.shared;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs unmounts off the manager's lock, one lane per owning user. An unmount walks into the
 * user's directories, which may be on a filesystem of theirs that never answers (FUSE): then it
 * is that user's lane that waits, never the lock and never another user's reclaim. Each lane runs
 * its entries in the order given and commits what it did in batches (one state write per batch).
 */
final class Reaper implements AutoCloseable {
    private static final int BATCH = 64;

    /** One unmount done outside the lock, waiting to be recorded. */
    record Done(Entry entry, Unmounts.Result result) {}

    private record Job(Entry entry, CompletableFuture<String> future) {}

    private final Function<Entry, Unmounts.Result> unmount;
    private final Consumer<List<Done>> commit;
    private final Map<Integer, Lane> lanes = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param unmount runs outside the lock
     * @param commit  records a batch under the lock, and writes the state before its futures complete
     */
    Reaper(Function<Entry, Unmounts.Result> unmount, Consumer<List<Done>> commit) {
        this.unmount = unmount;
        this.commit = commit;
    }

    /** Queues {@code e} on its owner's lane; the future completes with its action once recorded. */
    CompletableFuture<String> submit(Entry e) {
        CompletableFuture<String> f = new CompletableFuture<>();
        lanes.computeIfAbsent(e.ownerUid, Lane::new).add(new Job(e, f));
        return f;
    }

    private final class Lane {
        private final int uid;
        private final ConcurrentLinkedQueue<Job> queue = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean();

        Lane(int uid) {
            this.uid = uid;
        }

        void add(Job j) {
            queue.add(j);
            if (running.compareAndSet(false, true)) {
                Thread.ofPlatform().name("reaper-uid-" + uid).daemon().start(this::drain);
            }
        }

        /** Works until the queue is empty; the thread ends then, and the next job starts another. */
        private void drain() {
            do {
                List<Job> jobs = new ArrayList<>();
                List<Done> batch = new ArrayList<>();
                for (Job j; !closed && (j = queue.poll()) != null; ) {
                    jobs.add(j);
                    batch.add(new Done(j.entry(), unmount.apply(j.entry())));
                    if (batch.size() >= BATCH || queue.isEmpty()) {
                        flush(jobs, batch);
                    }
                }
                flush(jobs, batch);
                running.set(false);
            } while (!closed && !queue.isEmpty() && running.compareAndSet(false, true));
        }

        private void flush(List<Job> jobs, List<Done> batch) {
            if (batch.isEmpty()) return;
            try {
                commit.accept(List.copyOf(batch));
            } finally {
                for (int i = 0; i < jobs.size(); i++) jobs.get(i).future().complete(batch.get(i).result().action());
                jobs.clear();
                batch.clear();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
