package ipc.connect;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time used by threads, in milliseconds, from {@code /proc/<pid>/task/<tid>/schedstat}: the time each thread has
 * run, in nanoseconds. (The utime and stime of {@code stat} are sampled at clock ticks, so a thread that wakes
 * briefly ten times a second can be charged 10 ms for one wake, or nothing for many.)
 */
final class ProcCpu {
    private ProcCpu() {
    }

    /** CPU time of this process's threads whose (kernel, 15-character) name starts with {@code prefix}. */
    static long ofThreadsNamed(String prefix) throws IOException {
        String kernelPrefix = prefix.length() > 15 ? prefix.substring(0, 15) : prefix;
        long total = 0;
        for (Map.Entry<String, Long> thread : ofThreads(ProcessHandle.current().pid()).entrySet()) {
            String name = thread.getKey().substring(thread.getKey().indexOf(' ') + 1);
            if (name.startsWith(kernelPrefix)) {
                total += thread.getValue();
            }
        }
        return total;
    }

    /** CPU time of each thread of a process, by "tid name". */
    static Map<String, Long> ofThreads(long pid) throws IOException {
        Map<String, Long> threads = schedstat(pid, 0);
        threads.replaceAll((thread, nanos) -> nanos / 1_000_000);
        return threads;
    }

    /** How many times each thread of a process has been put on a core (its wakes, for a sleeper), by "tid name". */
    static Map<String, Long> runsOfThreads(long pid) throws IOException {
        return schedstat(pid, 2);
    }

    /** One field of each thread's schedstat: 0 the nanoseconds run, 1 those waited for a core, 2 the runs. */
    private static Map<String, Long> schedstat(long pid, int field) throws IOException {
        Map<String, Long> threads = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks) {
                try {
                    long value = Long.parseLong(Files.readString(task.resolve("schedstat")).strip().split(" ")[field]);
                    threads.put(task.getFileName() + " " + Files.readString(task.resolve("comm")).strip(), value);
                } catch (NoSuchFileException ended) {
                    // the thread ended meanwhile
                }
            }
        }
        return threads;
    }

    /** The threads that used CPU between two {@link #ofThreads} readings, with their milliseconds. */
    static Map<String, Long> used(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> used = new TreeMap<>();
        after.forEach((thread, millis) -> {
            long delta = millis - before.getOrDefault(thread, 0L);
            if (delta > 0) {
                used.put(thread, delta);
            }
        });
        return used;
    }
}
