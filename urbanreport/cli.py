"""The `urbanreport` command: argument parsing only; every subcommand calls a plain function.

Heavy modules (Prefect, matplotlib, reportlab) are imported inside the subcommand that needs
them, so `urbanreport ingest` or `urbanreport rejects` start quickly.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from urbanreport.core.city import load_city
from urbanreport.core.config import Settings


def _years(text: str) -> list[int]:
    """`2023` or `2022-2024` → list of years."""
    first, _, last = text.partition("-")
    start, end = int(first), int(last or first)
    if end < start:
        raise argparse.ArgumentTypeError(f"年份范围无效：{text}")
    return list(range(start, end + 1))


def cmd_sample(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.sample import write_sample

    written = write_sample(settings, years=args.years, scale=args.scale, seed=args.seed)
    per_source = Counter(path.parent.name for path in written)
    for source, count in per_source.items():
        print(f"  {source:<20}{count:>4} 个文件")
    print(f"示例数据已写入 {settings.inbox}（{len(written)} 个文件）")
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.ingest.batches import format_summary, ingest_all, pull_http

    summary = ingest_all(settings, pull_http(settings, full_refresh=args.full_refresh))
    print(format_summary(summary))
    return 0


def cmd_rejects(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.ingest.batches import format_rejects, list_rejects

    rows = list_rejects(settings, source=args.source, limit=args.limit)
    print(format_rejects(rows))
    return 0


def cmd_indicators(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.core import warehouse
    from urbanreport.indicators import Period, city_to_json, compute_city, compute_for
    from urbanreport.terminal import city_table, indicators_table

    if args.city:
        if args.district:
            raise ValueError("--city 与 --district 只能选一个 (--city or --district, not both)")
        city = load_city()
        with warehouse.reader(settings) as con:
            figures = compute_city(con, Period.parse(args.period), city)
        out = city_to_json(figures)
        print(json.dumps(out, ensure_ascii=False, indent=2) if args.json else city_table(figures))
        return 0
    result = compute_for(settings, Period.parse(args.period))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(indicators_table(result))
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.core.migrate import migrate

    done = migrate(settings)
    if not done.tables:
        print(f"仓库已是新格式，无需迁移 (already up to date): {done.where}")
        return 0
    for table, rows in done.tables.items():
        print(f"  {table:<20}{rows:>10} 行")
    print(
        f"已迁移 {len(done.tables)} 个表，全部数据行保留并标记为区县 {done.district}"
        f" (migrated; every row kept, stamped {done.district})"
    )
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.indicators import Period
    from urbanreport.reports.build import render

    entry = render(settings, Period.parse(args.period))
    for path in entry.files.values() or [entry.path]:
        print(path)
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.core import warehouse
    from urbanreport.indicators import Period
    from urbanreport.reports import export, registry, xlsx

    period = Period.parse(args.period)
    with warehouse.reader(settings) as con:
        document = export.document(settings, period, con)
    out = Path(args.out) if args.out else Path(f"{period.label}全部指标及分项数据.xlsx")
    registry.atomic_write(out.resolve(), xlsx.render(document))
    print(out)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.flows.pipeline import monthly_run, parse_month

    if args.period is not None:
        parse_month(args.period)  # refuse a bad period before Prefect starts a server
    monthly_run(period=args.period, district=args.district)
    return 0


def cmd_rerun(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.flows.pipeline import fiscal_year_rerun, validate_fiscal_year

    validate_fiscal_year(args.fiscal_year)  # refuse a bad year before Prefect starts a server
    fiscal_year_rerun(
        fiscal_year=args.fiscal_year, full_refresh=args.full_refresh, district=args.district
    )
    return 0


def cmd_city_deployments(settings: Settings, args: argparse.Namespace) -> int:
    import yaml

    from urbanreport.core import deployments

    city = load_city(settings.home)
    document = deployments.city_deployments(city)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    header = (
        f"# Prefect deployments of {city.name} ({city.code}), generated from its city file by\n"
        "# `urbanreport city deployments`: edit city.toml and generate again, not this file.\n"
    )
    if args.output:
        Path(args.output).write_text(header + text, encoding="utf-8")
        print(f"已写出 {len(document['deployments'])} 个部署：{args.output}")
    else:
        print(header + text, end="")
    if args.create_limits:
        from urbanreport.flows.city import ensure_district_limits

        for name in ensure_district_limits(deployments.district_limits(city)):
            print(f"并发限制 {name}：1")
    return 0


def cmd_city_report(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.indicators import Period
    from urbanreport.reports.city import render_city

    entry = render_city(load_city(settings.home), Period.parse(args.period))
    for path in entry.files.values():
        print(path)
    return 0


def cmd_refresh(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.flows.refresh import refresh

    reasons = refresh(full_refresh=args.full_refresh)
    for report, why in reasons.items():
        print(f"{report}\t{'；'.join(why)}")
    if not reasons:
        print("没有报告受新数据影响 (no report affected by new data)")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.flows.pipeline import demo

    demo(settings)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.portal.server import serve

    serve(settings, host=args.host, port=args.port)
    return 0


def cmd_docs(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.docs import write_docs

    for path in write_docs():
        print(path)
    return 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.check import Limits, check_file
    from urbanreport.check.annotate import write_annotated
    from urbanreport.terminal import check_report

    source = Path(args.file)
    result = check_file(settings, source, args.period)
    if args.annotated and result.draft.format != "docx":
        raise ValueError(
            f"{source.name} 不是 Word 文稿，无法生成批注副本 (--annotated is for .docx)"
        )
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(check_report(result))
    if args.annotated:
        out = write_annotated(result, source, Path(args.annotated), Limits.from_settings(settings))
        print(f"批注副本：{out}", file=sys.stderr if args.json else sys.stdout)
    return 1 if result.mismatches else 0


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.portal.commands import run_user

    return run_user(settings, args)


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from urbanreport.portal.commands import run_audit

    return run_audit(settings, args)


def _add_portal_parsers(add: Callable[..., argparse.ArgumentParser]) -> None:
    """`user` (accounts of the portal) and `audit` (its audit log)."""
    users = add("user", cmd_user, "管理门户账户：新建、列出、停用、改密码、API 令牌")
    sub = users.add_subparsers(dest="user_command", required=True)
    p = sub.add_parser("add", help="新建账户")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["viewer", "editor", "admin"])
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    sub.add_parser("list", help="列出账户")
    for name, help_ in (("disable", "停用账户"), ("enable", "重新启用账户")):
        sub.add_parser(name, help=help_).add_argument("name")
    p = sub.add_parser("passwd", help="修改密码（并解除锁定）")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    p = sub.add_parser("token", help="签发 API 令牌（只显示一次，在最后一行）")
    p.add_argument("name")
    p.add_argument("--label", default="", help="用途说明，如 省平台")
    sub.add_parser("tokens", help="列出账户的 API 令牌").add_argument("name")
    p = sub.add_parser("revoke", help="吊销 API 令牌")
    p.add_argument("name")
    p.add_argument("token_id")

    p = add("audit", cmd_audit, "查看或校验门户审计日志")
    p.add_argument("--since", help="起始日期 YYYY-MM-DD（北京时间）")
    p.add_argument("--json", action="store_true", help="机器可读的 JSON 输出")
    p.add_argument("--verify", action="store_true", help="校验哈希链，发现改动时退出码为 1")


# Subcommands that work on one district of a city (`--district CODE`).
_PER_DISTRICT = frozenset(
    {"sample", "ingest", "rejects", "indicators", "report", "export", "run", "rerun", "check"}
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="urbanreport",
        description="城市管理和综合执法局 法治政府建设数据：入库、指标、报告。",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[Settings, argparse.Namespace], int], help_: str):
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        if name in _PER_DISTRICT:
            p.add_argument(
                "--district",
                metavar="CODE",
                help="区划代码，如 440511（city.toml 中的区县；默认 [district] code）",
            )
        return p

    p = add("sample", cmd_sample, "写入示例数据（2023年数据与已公开的年度报告一致）")
    p.add_argument("--years", type=_years, default=_years("2022-2024"), help="如 2022-2024")
    p.add_argument("--scale", type=int, default=1, help="1 = 区级, 10 = 市级, 100 = 省级基准")
    p.add_argument("--seed", type=int, default=20231231)

    p = add("ingest", cmd_ingest, "导入收件箱中的新文件（以及已配置的HTTP数据源）")
    p.add_argument("--full-refresh", action="store_true", help="HTTP数据源忽略水位线，全量拉取")

    p = add("rejects", cmd_rejects, "列出被拒绝的数据行及原因")
    p.add_argument("--source", help="只看某个数据源，如 enforcement")
    p.add_argument("--limit", type=int, default=200)

    p = add("indicators", cmd_indicators, "计算某个统计期的指标，如 2023 或 2023-07")
    p.add_argument("--period", required=True)
    p.add_argument("--city", action="store_true", help="全市（city.toml 的全部区县）及分区县指标")
    p.add_argument("--json", action="store_true", help="机器可读的 JSON 输出")

    p = add("report", cmd_report, "生成报告（PDF、Word、Excel）：年度（2023）或月报（2023-07）")
    p.add_argument("--period", required=True)

    p = add("export", cmd_export, "导出某个统计期的全部指标及分项数据（Excel）")
    p.add_argument("--period", required=True, help="统计期：2023 或 2023-07")
    p.add_argument("--format", choices=["xlsx"], default="xlsx", help="目前只有 xlsx")
    p.add_argument(
        "--out", metavar="FILE", help="输出文件（默认：<统计期>全部指标及分项数据.xlsx）"
    )

    p = add("run", cmd_run, "运行月度流程（默认上个月，按北京时间）")
    p.add_argument("--period", default=None)

    p = add("rerun", cmd_rerun, "重跑整个财年：重新入库、计算并生成全部报告")
    p.add_argument("--fiscal-year", type=int, required=True)
    p.add_argument("--full-refresh", action="store_true")

    p = add("refresh", cmd_refresh, "每日刷新：入库新到文件，只重新生成受其影响的报告")
    p.add_argument("--full-refresh", action="store_true", help="HTTP数据源忽略水位线，全量拉取")

    add("demo", cmd_demo, "为示例数据的各年份运行财年重跑并打印报告位置")

    p = add("serve", cmd_serve, "启动报告下载门户")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)

    p = add("migrate", cmd_migrate, "把单区县旧版仓库升级为含区县列的新格式（数据全部保留）")

    add("docs", cmd_docs, "由数据契约和指标目录重新生成 docs/ 下的用户文档")

    p = add("check", cmd_check, "核对文稿（.docx/.txt/.pdf）中的每个数字与库内数值是否一致")
    p.add_argument("file", help="文稿文件")
    p.add_argument("--period", required=True, help="统计期：2023 或 2023-07")
    p.add_argument("--json", action="store_true", help="机器可读的 JSON 输出")
    p.add_argument(
        "--annotated", metavar="OUT", help="为 Word 文稿写出批注副本（标出不一致的数字）"
    )

    p = add(
        "city-deployments",
        cmd_city_deployments,
        "由 city.toml 生成各区县月度部署和全市汇总部署（prefect.yaml 格式）",
    )
    p.add_argument("--output", metavar="FILE", help="写入文件（默认打印）")
    p.add_argument(
        "--create-limits", action="store_true", help="同时在 Prefect 服务器上建立各区县并发限制"
    )
    p = add("city-report", cmd_city_report, "生成全市报告（PDF、Word、Excel）：2023 或 2023-07")
    p.add_argument("--period", required=True)

    _add_portal_parsers(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # The district's settings (city.toml); a configuration error is a message too.
        city = load_city()
        whole = getattr(args, "city", False) and not args.district
        settings = city.settings_for(city.codes[0] if whole else getattr(args, "district", None))
        return args.func(settings, args)
    except BrokenPipeError:  # `urbanreport indicators … | head`: the reader has seen enough
        sys.stderr.close()
        return 0
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        # Errors meant for people (bad period, busy warehouse, missing data) without a traceback.
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
