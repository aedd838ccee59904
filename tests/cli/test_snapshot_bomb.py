"""A gzip decompression bomb given as a snapshot (`check --from`) is refused after reading a
bounded amount, in one line, instead of inflating into all the machine's memory."""

from __future__ import annotations

import gzip

from osfsck.cli import exitcodes
from osfsck.cli.main import main
from osfsck.model.snapshot import MAX_INFLATION


def test_a_gzip_bomb_is_refused_in_one_line(tmp_path, capsys):
    bomb = tmp_path / "snapshot.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        for _ in range(400):  # 400 MiB of zeros in ~400 KiB: a thousand times its size
            f.write(bytes(1 << 20))
    assert (400 << 20) > MAX_INFLATION * bomb.stat().st_size + (64 << 20)
    config = tmp_path / "osfsck.toml"
    config.write_text('[repair]\njournal = "journal.jsonl"\n')
    assert main(["-c", str(config), "check", "--from", str(bomb)]) == exitcodes.OPERATIONAL
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"osfsck: {bomb}: inflates to more than {MAX_INFLATION} times its size: not a snapshot osfsck wrote"]
