package ipc.connect;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** CPU time used (utime + stime from /proc), in milliseconds. */
final class ProcCpu {
    private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux

    private ProcCpu() {
    }

    /** CPU time of a whole process. */
    static long ofProcess(long pid) throws IOException {
        return ofStat(Path.of("/proc/" + pid + "/stat"));
    }

    /** CPU time of this process's threads whose (kernel, 15-character) name starts with {@code prefix}. */
    static long ofThreadsNamed(String prefix) throws IOException {
        String kernelPrefix = prefix.length() > 15 ? prefix.substring(0, 15) : prefix;
        long total = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    if (Files.readString(task.resolve("comm")).strip().startsWith(kernelPrefix)) {
                        total += ofStat(task.resolve("stat"));
                    }
                } catch (NoSuchFileException ended) {
                    // the thread ended meanwhile
                }
            }
        }
        return total;
    }

    /** CPU time of each thread of a process, by "tid name". */
    static java.util.Map<String, Long> ofThreads(long pid) throws IOException {
        java.util.Map<String, Long> threads = new java.util.TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks) {
                try {
                    threads.put(task.getFileName() + " " + Files.readString(task.resolve("comm")).strip(),
                            ofStat(task.resolve("stat")));
                } catch (NoSuchFileException ended) {
                    // the thread ended meanwhile
                }
            }
        }
        return threads;
    }

    /** The threads that used CPU between two {@link #ofThreads} readings, with their milliseconds. */
    static java.util.Map<String, Long> used(java.util.Map<String, Long> before, java.util.Map<String, Long> after) {
        java.util.Map<String, Long> used = new java.util.TreeMap<>();
        after.forEach((thread, millis) -> {
            long delta = millis - before.getOrDefault(thread, 0L);
            if (delta > 0) {
                used.put(thread, delta);
            }
        });
        return used;
    }

    private static long ofStat(Path stat) throws IOException {
        String text = Files.readString(stat);
        String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // fields 14 and 15 of stat
        return ticks * 1000 / TICKS_PER_SECOND;
    }
}
