"""Write a lab cloud to disk: databases, instance folders, hypervisors, osfsck.toml, truth."""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from osfsck_lab import (
    database,
    faults,
    hypervisors,
    iscsiadm_standin,
    network,
    neutron_ovn,
    neutron_server,
    nova_rows,
    placement,
    processes,
    quotas,
    rpc,
    schemas,
    services,
    testdriver,
    volumes,
)
from osfsck_lab.cloud import Cloud, consistent_cloud
from osfsck_lab.hypervisors import LabError
from osfsck_lab.profiles import PROFILES


def build(
    out: Path,
    profile: str = "small",
    seed: int = 1,
    db_url: str | None = None,
    release: str | None = None,
    hv_mode: str | None = None,
    run_as: str | None = None,
    now: dt.datetime | None = None,
    neutron: str = "imitation",
) -> dict:
    """Build the lab cloud in `out`.  Its lab.json is written first, as a lab whose build
    has not finished: whatever step fails (or an interrupt), the build stops every server it
    started, and `lab stop` can too.  `neutron` "real": the network is written by the real
    Neutron with ML2/OVN (lab/neutron_ovn.py; the small profile of the newest release, on
    MariaDB), not by the lab's imitation of it."""
    prof = PROFILES[profile]
    release = lab_release(release)
    hv_mode = hv_mode or prof.hypervisors
    if neutron == "real":
        _can_run_neutron(profile, release, db_url)
    elif neutron != "imitation":
        raise LabError(f"unknown --neutron {neutron!r} (imitation or real)")
    out = Path(out).resolve()
    if (out / "lab.json").exists():
        stop(out)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o755)  # the lab's libvirtd user must reach the guests' disks
    _write_lab(
        out,
        {
            "profile": profile,
            "seed": seed,
            "release": release,
            "hypervisors": hv_mode,
            "neutron": neutron,
            "building": True,
            "hosts": {},
            "services": {},
        },
    )
    try:
        return _build(out, profile, seed, db_url, release, hv_mode, run_as, now, neutron)
    except BaseException as failed:
        _stop_after(failed, out)
        raise


def lab_release(name: str | None) -> str:
    """The release a lab of `name` is built of: the newest by default; a series named as
    osfsck's reports name it ("Xena") is the same release; one the lab does not build is one
    line (LabError)."""
    have = schemas.releases()
    if name is None:
        return have[0]
    release = name.lower()  # series names only: "2026.2" has no case
    if release not in have:
        if release in schemas.stored_releases():  # stored for osfsck's version reader only
            raise LabError(
                f"release {name!r}: its schemas are stored, but the lab builds clouds of "
                f"{have[-1]} and later only (have: {', '.join(have)})"
            )
        raise LabError(f"unknown schema release {name!r} (have: {', '.join(have)})")
    return release


def _build(
    out: Path,
    profile: str,
    seed: int,
    db_url: str | None,
    release: str,
    hv_mode: str,
    run_as: str | None,
    now: dt.datetime | None,
    neutron: str = "imitation",
) -> dict:
    prof = PROFILES[profile]
    now = (now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)).replace(microsecond=0)
    cloud = spec(profile, seed, now, release)
    volumes.for_release(cloud, release)
    running: dict = {}
    real = None
    if neutron == "real":  # before the rest is derived from the spec: the ids become the server's
        url = database.database_urls(out, db_url, f"lab{seed}", ["neutron"])["neutron"]
        real = neutron_ovn.realize(cloud, out, url, release, running)
    # the rows drawn already go first, and what only they needed is let go: DNS, OVN and
    # NSX are derived next (in this order: they draw from the cloud's random numbers and add
    # to its truth) and handed to their servers at once, each gigabytes at XL
    urls = _write_drawn(cloud, out, db_url, f"lab{seed}", release, neutron=real is None)
    instances, archived = cloud.counts()
    held = {"volumes": len(cloud.volumes), "attachments": sum(1 for a in cloud.attachments if not a["deleted"])}
    _let_go(cloud, *DRAWN)
    service_lines: list[str] = []
    running["named"], lines = services.start_dns(out, services.dns_zone_records(cloud))
    service_lines += lines
    if real:
        service_lines += ["[ovn]", f'nb_connection = "{real[0].remote}"', ""]
    else:
        running["ovsdb-server"], lines = services.start_ovn(out, services.ovn_northbound(cloud))
        service_lines += lines
    running["nsx"], lines = services.start_nsx(out, services.nsx_manager(cloud))
    service_lines += lines
    _write_drawing(cloud, urls, release, neutron=real is None)
    _let_go(cloud, *WRITTEN)
    paths = _write_folders(cloud, out, prof.real_bytes_per_mb)
    uris = _write_hypervisors(cloud, out, paths, hv_mode, run_as)
    iscsiadms = _write_iscsi(cloud, out)
    _let_go(cloud, "domains", "dirs", "iscsi")
    service_lines += _start_broker(out, cloud, running, prof.broker_alone)
    service_lines += services.start_placement(out, urls["placement"], db_url, running)
    truth = [{**t, "subject": _subject(t["subject"], paths)} for t in cloud.truth]
    # the near misses a check reports once they are old enough, each from `at` (UTC, as `now`)
    ripening = [
        {**r, "subject": _subject(r["subject"], paths), "at": r["at"].isoformat()}
        for r in sorted(cloud.ripening, key=lambda r: (r["at"], r["code"], r["subject"]))
    ]
    (out / "truth.json").write_text(
        json.dumps(
            {
                "profile": profile,
                "seed": seed,
                "release": release,
                "now": now.isoformat(),
                "faults": truth,
                "near_misses": cloud.notes,
                "ripening": ripening,
            },
            indent=2,
        )
    )
    _write_config(out, urls, paths, uris, iscsiadms, db_url, service_lines, real[1] if real else [])
    lab = {
        "profile": profile,
        "seed": seed,
        "release": release,
        "hypervisors": hv_mode,
        "neutron": neutron,
        "hosts": {h: {"uri": uris[h], "instances_path": paths[h]} for h, _ in cloud.hosts},
        "services": running,
    }
    _write_lab(out, lab)
    return {
        "dir": str(out),
        "hosts": len(cloud.hosts),
        "faults": len(truth),
        "instances": instances,
        "archived": archived,
        **held,
    }


def _start_broker(out: Path, c: Cloud, running: dict, alone: bool) -> list[str]:
    """The broker and the live services' process (added to `running`); returns their
    osfsck.toml lines.  `alone`: ovsdb-server and the NSX stand-in are stopped while the
    broker loads and settles (their state is on disk) and started again after it."""
    apart = [running[name] for name in ("ovsdb-server", "nsx") if alone and name in running]
    for entry in apart:
        services.stop(entry, out)
    entries, lines = rpc.start(out, c)
    running.update(entries)
    for entry in apart:
        services.start(entry, out, services.LOAD_TIMEOUT)
    return lines


def _let_go(c: Cloud, *parts: str) -> None:
    """Drop what the databases (or the hosts' files) now hold, and give the memory back to
    the system: glibc keeps what a process frees (gigabytes at XL) unless trimmed, and the
    servers started next need it (RabbitMQ holding XL's 80,000 queues: several GB)."""
    for part in parts:
        value = getattr(c, part)
        setattr(c, part, type(value)() if isinstance(value, (dict, list)) else None)
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # the process's own symbols: glibc's, where it is glibc
    except (OSError, AttributeError):  # not glibc: the memory stays the process's to reuse
        pass


# what the databases hold once the rows drawn already are written, and nothing after needs
DRAWN = ("mappings", "build_requests", "volumes", "attachments", "bdms", "placement", "quota")
# what they hold once written whole (the instance actions need the instances and migrations)
WRITTEN = ("instances", "shadow", "past", "migrations", "net")


def _can_run_neutron(profile: str, release: str, db_url: str | None) -> None:
    """The real Neutron is the one in its virtualenv (the newest release's), at the small
    scale (M and L create tens of thousands of objects: the imitation writes them), on
    MariaDB (ML2/OVN's hash ring and revision rows)."""
    if neutron_server.available() is None:
        raise LabError(neutron_server.NOT_INSTALLED)
    if profile != "small" or release != schemas.releases()[0] or not db_url:
        raise LabError(
            f"--neutron real builds the small profile of release {schemas.releases()[0]} on MariaDB (--db-url); "
            "other labs keep the imitation"
        )


def spec(profile: str, seed: int, now: dt.datetime, release: str | None = None) -> Cloud:
    """The lab cloud `build` writes, as a pure description: consistent, then faulted."""
    prof = PROFILES[profile]
    cloud = consistent_cloud(prof, seed, now, release or schemas.releases()[0])
    volumes.populate(cloud, prof)
    faults.inject(cloud, copies=1 if profile == "small" else max(1, len(cloud.hosts) // 400))
    return cloud


# -- databases ---------------------------------------------------------------------------
def _write_databases(c: Cloud, out: Path, db_url: str | None, prefix: str, release: str, neutron: bool = True) -> dict:
    """Every database of the lab; Neutron's only with `neutron` (else the real Neutron wrote
    it).  Its rows in two parts: those whose values are all drawn already, then those that
    draw from the cloud's random numbers as they are made (`lab build` derives DNS, OVN and
    NSX between the two: they draw before the second)."""
    urls = _write_drawn(c, out, db_url, prefix, release, neutron)
    _write_drawing(c, urls, release, neutron)
    return urls


def _write_drawn(c: Cloud, out: Path, db_url: str | None, prefix: str, release: str, neutron: bool) -> dict:
    """Every database created, and the rows that draw nothing from the cloud's random numbers."""
    names = ["nova_api", "cinder", "neutron", "placement"] + [f"nova_{cell}" for cell, _ in c.cells]
    urls = database.database_urls(out, db_url, prefix, names)
    database.create(urls["nova_api"], "nova_api", release)
    cell_ids = {}
    cell_rows = []
    for i, (cell, uuid) in enumerate(c.cells, 1):
        cell_ids[cell] = i
        conn = urls[f"nova_{cell}"]
        if db_url:  # exercise Nova's templated URLs: credentials come from cell_url_base
            conn = "{scheme}://{username}:{password}@{hostname}:{port}/" + f"{prefix}_nova_{cell}"
        cell_rows.append(
            {
                "id": i,
                "uuid": uuid,
                "name": cell,
                "transport_url": "rabbit://lab:lab@localhost:5672/",
                "database_connection": conn,
                "disabled": False,
                "created_at": c.now,
            }
        )
    database.insert_rows(urls["nova_api"], "cell_mappings", cell_rows)
    database.insert_rows(
        urls["nova_api"],
        "host_mappings",
        [{"cell_id": cell_ids[cell], "host": h, "created_at": c.now} for h, cell in c.hosts],
    )
    database.insert_rows(urls["nova_api"], "instance_mappings", nova_rows.mapping_rows(c, cell_ids))
    database.insert_rows(urls["nova_api"], "build_requests", nova_rows.build_request_rows(c))
    on_disk = nova_rows.folders(c)
    for cell, _ in c.cells:
        url = urls[f"nova_{cell}"]
        database.create(url, "nova", release)
        for name, rows in (("instances", c.instance_rows(cell)), ("shadow_instances", c.shadow_rows(cell))):
            database.insert_rows(
                url, name, (nova_rows.instance_row(c, r, on_disk) for r in rows), nova_rows.WRITTEN_COLUMNS
            )
        database.insert_rows(url, "instance_info_caches", network.cache_rows(c, cell))
        database.insert_rows(url, "migrations", c.migrations.get(cell, []))
        database.insert_rows(url, "block_device_mapping", c.bdms.get(cell, []))
        database.insert_rows(url, "compute_nodes", nova_rows.compute_node_rows(c, cell, placement.node_uuid))
    _write_cinder(c, urls["cinder"], release)
    if neutron:
        database.create(urls["neutron"], "neutron", release)
    placement.write(c, urls, release)
    quotas.write(c, urls)
    return urls


def _write_cinder(c: Cloud, url: str, release: str) -> None:
    """Cinder's database and the rows that draw nothing (its services draw: _write_drawing)."""
    database.create(url, "cinder", release)
    database.insert_rows(url, "volume_types", [{**volumes.VOLUME_TYPE, "created_at": c.now - dt.timedelta(days=400)}])
    database.insert_rows(url, "volumes", c.volumes, _columns(c.volumes))
    database.insert_rows(url, "volume_attachment", c.attachments)


def _write_drawing(c: Cloud, urls: dict, release: str, neutron: bool) -> None:
    """The rows that draw from the cloud's random numbers (services' uuids, the instance
    actions' request ids), in the order they always drew; and Neutron's, whose
    ovn_revision_numbers are made with the OVN northbound rows."""
    for cell, _ in c.cells:
        database.insert_rows(urls[f"nova_{cell}"], "services", nova_rows.service_rows(c, cell, release))
    database.insert_rows(urls["cinder"], "services", _cinder_services(c))
    if neutron:
        _write_neutron(c, urls["neutron"])
    rpc.write(c, urls)


def _write_neutron(c: Cloud, url: str) -> None:
    n = c.net
    for table_name, rows in (
        ("standardattributes", n.attrs),
        ("networks", n.networks),
        ("networksegments", n.segments),
        ("subnets", n.subnets),
        ("ports", n.ports),
        ("ml2_port_bindings", n.bindings),
        ("ml2_port_binding_levels", n.levels),
        ("ipallocations", n.ips),
        ("routers", n.routers),
        ("routerports", n.router_ports),
        ("floatingips", n.fips),
        ("securitygroups", n.groups),
        ("securitygrouprules", n.rules),
        ("securitygroupportbindings", n.port_groups),
        ("ovn_revision_numbers", n.ovn_revisions),
    ):
        # columns left NULL are not named: a newer release's columns (networks.qinq) are then optional
        database.insert_rows(url, table_name, rows, _columns(rows, named=lambda v: v is not None))
    database.insert_rows(url, "externalnetworks", [{"network_id": n.external["id"], "is_default": 1}])


def _cinder_services(c: Cloud) -> list[dict]:
    """cinder-volume per backend and cinder-scheduler, reporting."""
    return [
        {
            "host": host,
            "binary": binary,
            "topic": binary,
            "report_count": 1,
            "disabled": False,
            "deleted": 0,
            "availability_zone": "nova",
            "created_at": c.now,
            "updated_at": c.now,
            "uuid": c.uuid(),
        }
        for host, binary in [(volumes.backend(k), "cinder-volume") for k in volumes.BACKENDS]
        + [(volumes.CINDER_HOST, "cinder-scheduler")]
    ]


def _columns(rows: list[dict], named=lambda v: True) -> set[str]:
    """The columns of `rows` (written as they are, not copied: L has 600,000 Neutron rows):
    every key but the lab's own ("_kind", ...) that holds a `named` value in some row."""
    return {k for r in rows for k, v in r.items() if not k.startswith("_") and named(v)}


# -- instance folders --------------------------------------------------------------------
def _write_folders(c: Cloud, out: Path, real_bytes_per_mb: int) -> dict[str, str]:
    paths = {}
    for host, _ in c.hosts:
        base = out / "hosts" / host / "instances"
        base.mkdir(parents=True, exist_ok=True)
        paths[host] = str(base)
        for d in c.dirs.get(host, []):
            folder = base / f"{d.uuid}{d.suffix}"
            folder.mkdir(exist_ok=True)
            disk = folder / "disk"
            with open(disk, "wb") as f:
                f.write(os.urandom(1024) * (d.mb * real_bytes_per_mb // 1024))  # real, allocated bytes
                f.truncate(d.gb_apparent * 1024**3)  # the rest sparse, like a thin qcow2
            (folder / "disk.info").write_text(json.dumps({str(disk): "raw"}))
            when = (c.now - d.age).replace(tzinfo=dt.timezone.utc).timestamp()
            for p in (disk, folder / "disk.info", folder):
                os.utime(p, (when, when))
    return paths


def _disks_of(paths: dict[str, str], host: str, dirs):
    present = {d.uuid for d in dirs if not d.suffix}

    def disks(dom):
        return [f"{paths[host]}/{dom.uuid}/disk"] if dom.uuid in present and dom.local_disk else []

    return disks


# -- hypervisors -------------------------------------------------------------------------
def _write_hypervisors(c: Cloud, out: Path, paths: dict, hv_kind: str, run_as: str | None) -> dict[str, str]:
    (out / "hv").mkdir(exist_ok=True)

    def write(host: str) -> str:
        disks_of = _disks_of(paths, host, c.dirs.get(host, []))
        domains = c.domains.get(host, [])
        if hv_kind == "testfiles":
            return testdriver.write_host(out / "hv" / f"{host}.xml", domains, disks_of)
        lab_host = hypervisors.start_host(out / "hv" / host, run_as)
        for d in domains:
            files = disks_of(d)
            vols = _volume_files(out / "hosts" / host / "volumes", d)
            hypervisors.hand_over(lab_host, *(Path(p) for p in files), *(Path(p) for p, _, _ in vols))
            nova = {"name": d.display_name, "project_id": d.project_id} if d.nova else None
            hypervisors.define(
                lab_host.uri,
                hypervisors.domain_xml(d.name, d.uuid, nova=nova, disks=files, volumes=vols),
                start=d.active,
            )
        return lab_host.uri

    # each host has a libvirtd of its own, and starting a guest is mostly waiting for it:
    # the hosts are written at once (a failure is raised once every host is done); a
    # test-driver file is only written, by a few threads (not XL's 20,000)
    hosts = [host for host, _ in c.hosts]
    with ThreadPoolExecutor(max_workers=max(1, len(hosts) if hv_kind == "libvirtd" else min(len(hosts), 8))) as pool:
        return dict(zip(hosts, pool.map(write, hosts)))


def _volume_files(folder: Path, dom) -> list[tuple[str, str, str]]:
    """(file, serial, dev) per volume of a domain on a real libvirtd: there the guest really
    starts, and QEMU would fail on the iSCSI by-path device or the RBD cluster Nova names
    (neither exists here), so each volume is a small sparse file with the volume's serial.
    The M and L test-driver hosts carry Nova's own block and network disks instead."""
    out = []
    for v in dom.volumes:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"volume-{v.serial}"
        with open(path, "wb") as f:
            f.truncate(1024**3)
        out.append((str(path), v.serial, v.dev))
    return out


# -- iSCSI -------------------------------------------------------------------------------
def _write_iscsi(c: Cloud, out: Path) -> dict[str, str]:
    """Each host's iscsiadm stand-in (no kernel iSCSI here: see lab/iscsiadm_standin.py)."""
    return {host: iscsiadm_standin.install(str(out / "hosts" / host / "iscsi"), c.iscsi[host]) for host, _ in c.hosts}


def _subject(subject: str, paths: dict) -> str:
    if subject.startswith("{instances:"):
        host, rest = subject[len("{instances:") :].split("}", 1)
        return paths[host] + rest
    return subject


# the lab keeps `quotausages` as Neutron's legacy quota driver does, and its neutron-server
# runs that driver (neutron_server.py): say so, or QU101 takes the release's default
NEUTRON_QUOTA_DRIVER = 'quota_driver = "neutron.db.quota.driver.DbQuotaDriver"'


def _write_config(
    out: Path,
    urls: dict,
    paths: dict,
    uris: dict,
    iscsiadms: dict,
    db_url: str | None,
    service_lines: list[str],
    neutron_lines: list[str] | None = None,
) -> None:
    lines = ["# osfsck configuration for this lab cloud (written by `osfsck lab build`)", "", "[nova]"]
    if db_url:
        # the plain `mysql://` scheme, as operators write it: osfsck then picks its driver
        # (the C one when installed), whatever driver the lab itself wrote with
        lines.append(f'api_database = "{database.plain_mysql(urls["nova_api"])}"')
        lines.append(f'cell_url_base = "{database.plain_mysql(db_url)}"')
        for service in ("cinder", "neutron"):
            lines += ["", f"[{service}]", f'database = "{database.plain_mysql(urls[service])}"']
        lines.append(NEUTRON_QUOTA_DRIVER)
        lines += neutron_lines or []  # the Networking API, in [neutron], the last section written
    else:
        lines.append('api_database = "sqlite:///db/nova_api.sqlite"')
        for service in ("cinder", "neutron"):
            lines += ["", f"[{service}]", f'database = "sqlite:///db/{service}.sqlite"']
        lines.append(NEUTRON_QUOTA_DRIVER)
    lines += ["", *service_lines]
    lines += ["[hypervisors]", 'transport = "local"', "concurrency = 8", 'timeout = "60s"', ""]
    for host in sorted(paths):
        lines += [
            f'[hypervisors.hosts."{host}"]',
            f'uri = "{uris[host]}"',
            f'instances_path = "{paths[host]}"',
            f'iscsiadm = "{iscsiadms[host]}"',
            "",
        ]
    # osfsck's own files (journal, state, lock) in a folder of their own, which osfsck
    # makes 0700: the lab's folder is open to the user its libvirtd runs as
    lines += ["[repair]", 'journal = "osfsck/journal.jsonl"', 'grace = "30m"', ""]
    (out / "osfsck.toml").write_text("\n".join(lines))


# -- start / stop ------------------------------------------------------------------------
def _write_lab(out: Path, lab: dict) -> None:
    tmp = out / "lab.json.tmp"
    tmp.write_text(json.dumps(lab, indent=2))
    tmp.replace(out / "lab.json")  # never half a record


def _stop_after(failed: BaseException, out: Path) -> None:
    """No server outlives a build that failed; what would not stop is said after why."""
    try:
        stop(out)
    except Exception as left:  # noqa: BLE001 - the build's own failure is the one to raise
        if isinstance(failed, LabError):
            raise LabError(f"{failed}\n{left}") from None
        failed.add_note(str(left))


def stop(out: Path) -> int:
    """Stop every server of the lab in `out`, whatever step its build reached: those lab.json
    records, every hypervisor whose libvirtd was started (its folder's lab-host.json is
    written first), and any process still marked as the lab's (lab/processes.py: a PID
    never written, a server started after its record...).  Returns how many hypervisors it
    stopped; once it has tried them all, LabError with one line per process that would not end."""
    out = Path(out).resolve()
    lab = json.loads((out / "lab.json").read_text())
    hosts = sorted((out / "hv").glob(f"*/{hypervisors.STATE_FILE}"))
    steps = [lambda e=entry: services.stop(e, out) for entry in lab.get("services", {}).values()]
    steps += [lambda h=host: hypervisors.stop_host(h.parent / "libvirtd.pid") for host in hosts]

    def attempt(step) -> str | None:
        try:
            step()
        except LabError as e:
            return str(e)
        return None

    # each server and host stops on its own (a host's guests take libvirt ~5 s, the broker
    # ~6 s): all at once, then one sweep for whatever is still marked as the lab's
    with ThreadPoolExecutor(max_workers=max(1, len(steps))) as pool:
        problems = [p for p in pool.map(attempt, steps) if p]
    if last := attempt(lambda: processes.stopped(processes.marked(out))):
        problems.append(last)
    if problems:
        raise LabError("\n".join(problems))
    return len(hosts)


def start(out: Path, run_as: str | None = None) -> int:
    lab = json.loads((Path(out) / "lab.json").read_text())
    if lab.get("building"):
        raise LabError(f"the build of the lab in {out} did not finish: build it again (osfsck lab build)")
    for entry in lab.get("services", {}).values():
        services.start(entry, Path(out))
    if lab.get("hypervisors") != "libvirtd":
        return 0
    for host in lab["hosts"]:
        base = Path(out) / "hv" / host
        if not hypervisors.is_running(base / "libvirtd.pid"):
            h = hypervisors.start_host(base, run_as)
            if h.uri != lab["hosts"][host]["uri"]:
                raise LabError(f"{host}: its socket moved to {h.uri}; rebuild the lab")
    return len(lab["hosts"])
