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

    private static long ofStat(Path stat) throws IOException {
        String text = Files.readString(stat);
        String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // fields 14 and 15 of stat
        return ticks * 1000 / TICKS_PER_SECOND;
    }
}
