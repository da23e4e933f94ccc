"""`make bench`'s import benchmark (import_bench.py) run as make runs it, on
a small table: its output ends with the one figures line (no Spark progress bars),
and it leaves nothing in the temporary directories of Python and the JVM."""

import os
import subprocess
import sys

from conftest import HERE, need


def test_bench_prints_its_figures_without_progress_bars_and_leaves_no_temporary_files(tmp_path, contract):
    # contract: the template's job arguments are written before the run
    # (make bench finds them written by the Go tests), so only the bench
    # writes into the temporary directory watched here.
    need("LAKEFORGE_TEST_POSTGRES_DSN")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), LAKEFORGE_BENCH_ROWS="20000",
               # Spark's own scratch space follows the JVM's temporary directory.
               JAVA_TOOL_OPTIONS="-Djava.io.tmpdir=%s" % tmp)
    p = subprocess.run([sys.executable, os.path.join(HERE, "import_bench.py")], cwd=str(tmp_path),
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    figures = [line for line in p.stdout.splitlines() if line.startswith("import-bench:")]
    assert len(figures) == 1 and figures[0].startswith("import-bench: rows=20000 partitions="), p.stdout
    assert p.stdout.splitlines()[-1] == figures[0], "the figures are not the last line:\n" + p.stdout
    for out in (p.stdout, p.stderr):
        assert "[Stage" not in out and "\r" not in out, "Spark progress bars in the bench output:\n" + out[-3000:]
    assert sorted(os.listdir(tmp)) == [], "left in the temporary directory: %s" % sorted(os.listdir(tmp))
    assert sorted(os.listdir(tmp_path)) == ["tmp"], "left in the working directory: %s" % sorted(os.listdir(tmp_path))
