"""Rendering without Asterisk: templates, instance tree, password file, CLI render."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from vipcall.sandbox import Instance, TemplateError, render_template
from vipcall.sandbox.__main__ import main
from vipcall.sandbox.chroot import chroot_argv
from vipcall.sandbox.instance import PROJECT_DIR


def test_placeholders_substituted_and_asterisk_vars_untouched() -> None:
    text = "bind=127.0.0.1:@@sip_port@@\nexten => s,1,Dial(${VIP_DIAL},${VIP_TIMEOUT})\n$var"
    out = render_template(text, {"sip_port": 15060})
    assert out == "bind=127.0.0.1:15060\nexten => s,1,Dial(${VIP_DIAL},${VIP_TIMEOUT})\n$var"


def test_unknown_placeholder_is_an_error() -> None:
    with pytest.raises(TemplateError, match="nope"):
        render_template("x=@@nope@@", {})


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """Just enough of the chroot for render(): packaged data and sounds."""
    root = tmp_path / "root"
    (root / "usr/share/asterisk/sounds/en_US_f_Allison").mkdir(parents=True)
    (root / "usr/share/asterisk/moh").mkdir()
    (root / "usr/lib/x86_64-linux-gnu/asterisk/modules").mkdir(parents=True)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project tree with the real templates and a small sounds/ folder."""
    proj = tmp_path / "project"
    proj.mkdir()
    for sub in ("asterisk-conf", "dialplan"):
        (proj / sub).symlink_to(PROJECT_DIR / sub)
    (proj / "sounds/fi").mkdir(parents=True)
    (proj / "sounds/fi/hello.wav").write_bytes(b"RIFF")
    return proj


def test_render_instance_tree(fake_root: Path, project: Path) -> None:
    inst = Instance(
        name="t1",
        root=fake_root,
        sip_port=15060,
        ari_port=18088,
        rtp_start=31000,
        rtp_end=31999,
        ari_password="s3cret",
        peer_port=5070,
        project_dir=project,
    )
    base = inst.render()
    assert base == fake_root / "srv/vipcall/t1"
    etc = base / "etc"
    for name in (
        "asterisk.conf",
        "modules.conf",
        "pjsip.conf",
        "http.conf",
        "ari.conf",
        "rtp.conf",
        "sorcery.conf",
        "logger.conf",
        "extensions.conf",
    ):
        text = (etc / name).read_text()
        assert "@@" not in text, name
    for sub in ("run", "spool", "log", "db", "cache"):
        assert (base / sub).is_dir()

    ast = (etc / "asterisk.conf").read_text()
    assert "astdbdir => /srv/vipcall/t1/db" in ast
    assert "astrundir => /srv/vipcall/t1/run" in ast
    assert "astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules" in ast
    assert re.search(r"^runuser = root$", ast, re.M)
    assert "[directories]\n" in ast  # not a (!) template: that would be ignored

    pjsip = (etc / "pjsip.conf").read_text()
    assert "bind = 127.0.0.1:15060" in pjsip
    other = Instance(name="t2", root=fake_root, sip_host="127.0.10.21", project_dir=project)
    assert "bind = 127.0.10.21:5060" in (other.render() / "etc/pjsip.conf").read_text()
    assert "contact = sip:127.0.0.2:5070" in pjsip
    assert "contact = sip:127.0.0.3:5070" in pjsip
    assert "set_var = VIP_TRUNK=mobile" in pjsip
    assert "bindport = 18088" in (etc / "http.conf").read_text()
    ari = (etc / "ari.conf").read_text()
    assert "password = s3cret" in ari
    assert stat.S_IMODE((etc / "ari.conf").stat().st_mode) == 0o600
    rtp = (etc / "rtp.conf").read_text()
    assert "rtpstart = 31000" in rtp and "icesupport = no" in rtp

    dp = (etc / "extensions.conf").read_text()
    for ctx in ("vipcall-inbound", "vipcall-softphone", "vipcall-ring", "vipcall-predial"):
        assert f"[{ctx}]" in dp
    assert "Stasis(${VIP_APP},in,${VIP_TRUNK})" in dp
    assert "VIP_APP = vipcall" in dp
    assert "${EXTEN:0:3}" in dp

    # sounds: copied in, reachable as <astdatadir>/sounds/vipcall/<lang>/<prompt>
    assert (base / "sounds/fi/hello.wav").read_bytes() == b"RIFF"
    link = base / "data/sounds/vipcall"
    assert link.is_symlink() and str(link.readlink()) == "/srv/vipcall/t1/sounds"
    assert str((base / "data/sounds/en_US_f_Allison").readlink()).startswith("/usr/share/asterisk")
    assert str((base / "data/moh").readlink()) == "/usr/share/asterisk/moh"


def test_render_is_repeatable_and_drops_stale_files(fake_root: Path, project: Path) -> None:
    inst = Instance(name="t2", root=fake_root, project_dir=project)
    base = inst.render()
    (base / "etc/stale.conf").write_text("x")
    (base / "db/astdb.sqlite3").write_text("keep me")
    inst.render()
    assert not (base / "etc/stale.conf").exists()
    assert (base / "db/astdb.sqlite3").read_text() == "keep me"


def test_password_generated_and_written(tmp_path: Path, fake_root: Path) -> None:
    a, b = Instance(root=fake_root), Instance(root=fake_root)
    assert len(a.ari_password) >= 24 and a.ari_password != b.ari_password
    path = a.write_password(tmp_path / "state")
    assert path.read_text().strip() == a.ari_password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "ari_password" not in repr(a) and a.ari_password not in repr(a)


def test_bad_name_rejected(fake_root: Path) -> None:
    with pytest.raises(Exception, match="bad instance name"):
        Instance(name="../x", root=fake_root)


def test_no_chroot_when_root_is_slash() -> None:
    assert chroot_argv(Path("/"), "asterisk", "-V") == ["asterisk", "-V"]
    assert chroot_argv(Path("/r"), "asterisk") == ["chroot", "/r", "asterisk"]


def test_cli_render_reuses_stored_password(
    tmp_path: Path,
    fake_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VIPCALL_ARI_PASSWORD", raising=False)
    state = tmp_path / "state"
    argv = [
        "render",
        "--root",
        str(fake_root),
        "--name",
        "cli",
        "--sip-port",
        "25060",
        "--ari-port",
        "28088",
        "--state-dir",
        str(state),
    ]
    assert main(argv) == 0
    first = (state / "ari-password").read_text().strip()
    assert main(argv) == 0
    assert (state / "ari-password").read_text().strip() == first
    etc = fake_root / "srv/vipcall/cli/etc"
    assert f"password = {first}" in (etc / "ari.conf").read_text()
    assert "bind = 127.0.0.1:25060" in (etc / "pjsip.conf").read_text()
    assert "cli" in capsys.readouterr().out


def pstn_endpoint(pjsip_conf: str) -> str:
    """The ``[pstn](trunk-endpoint)`` section of a rendered pjsip.conf."""
    return pjsip_conf.split("[pstn](trunk-endpoint)", 1)[1].split("\n[", 1)[0]


@pytest.mark.parametrize("trusted", [True, False])
def test_pstn_trust_is_rendered_on_the_pstn_endpoint_only(
    fake_root: Path, project: Path, trusted: bool
) -> None:
    """A hidden caller's real number goes to the carrier in P-Asserted-Identity only when
    it is trusted (pjsip trust_id_outbound); the mobile core is always trusted."""
    inst = Instance(name="trust", root=fake_root, project_dir=project, pstn_trusted=trusted)
    conf = (inst.render() / "etc" / "pjsip.conf").read_text()
    value = "yes" if trusted else "no"
    assert re.findall(r"^trust_id_outbound = (\w+)$", pstn_endpoint(conf), re.M) == [value]
    mobile = conf.split("[mobile](trunk-endpoint)", 1)[1].split("\n[", 1)[0]
    assert "trust_id_outbound" not in mobile  # the template's yes
    assert Instance(name="d", root=fake_root).pstn_trusted, "default: trusted"


def test_cli_render_takes_pstn_trust_from_the_setting(
    tmp_path: Path, fake_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIPCALL_PSTN_TRUSTED", "no")
    argv = ["render", "--root", str(fake_root), "--name", "untrusted"]
    assert main([*argv, "--state-dir", str(tmp_path / "state")]) == 0
    conf = (fake_root / "srv/vipcall/untrusted/etc/pjsip.conf").read_text()
    assert re.findall(r"^trust_id_outbound = (\w+)$", pstn_endpoint(conf), re.M) == ["no"]
