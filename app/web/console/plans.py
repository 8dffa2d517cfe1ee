"""双随机 sampling plans in the console: create a plan (categories, region by name, how many targets, the inspector
pool picked from regulator accounts by name), draw it (the seed shown; a seed may be given to reproduce a draw),
see the drawn targets and inspectors by name, record results, and follow the public page once drawn. Each form is
the API's write (graph/sampling_plans.create_plan, draw, record_results) read through the API's schema, written as
the user with the request's audit entry in its transaction."""

from __future__ import annotations

from flask import redirect, request, url_for

from app.extensions import graph
from app.schemas.products import CATEGORIES
from app.schemas.supervision_loop import DrawIn, PlanIn, ResultsIn
from app.web.console import bp, problem, render
from app.web.console.writes import actor, audit, load_body, load_form, recorded
from graph import console as store
from graph import sampling_plans, sampling_rules
from graph.regions import NAMES as REGIONS

_PLAN = PlanIn()
_DRAW = DrawIn()
_RESULTS = ResultsIn()


@bp.route("/plans/new")
def plan_new():
    """The form creating a plan."""
    return render("console/plan_new.html", categories=CATEGORIES, regions=REGIONS,
                  inspectors=store.regulator_accounts(graph()), max_targets=sampling_rules.MAX_TARGETS,
                  max_per=sampling_rules.MAX_INSPECTORS_PER_TARGET)


@bp.route("/plans", methods=["POST"])
def plan_create():
    """Create a draft plan (as POST /api/v1/sampling-plans)."""
    data = load_form(_PLAN, ("title", "region_code", "target_count", "per_target"),
                     lists=("categories", "inspector_ids"))
    out = recorded(sampling_plans.create_plan(graph(), data, actor(), audit=audit()))
    return redirect(url_for("console.plan_page", plan_id=out["plan_id"], done="created"), 303)


@bp.route("/plans/<plan_id>")
def plan_page(plan_id: str):
    """One plan: scope, pool, the draw (seed), assignments by name, the results form, the public link."""
    if len(plan_id) > 40:
        return problem(404, "problem_not_found")
    plan = sampling_plans.get_plan(graph(), plan_id)
    return render("console/plan.html", plan=plan, results=sampling_rules.RESULTS, regions=REGIONS,
                  done=request.args.get("done"))


@bp.route("/plans/<plan_id>/draw", methods=["POST"])
def plan_draw(plan_id: str):
    """Draw targets and inspectors (as POST /api/v1/sampling-plans/{id}/draw); a given seed reproduces a draw."""
    data = load_form(_DRAW, ("seed",))
    recorded(sampling_plans.draw(graph(), plan_id, data["seed"], actor(), audit=audit()))
    return redirect(url_for("console.plan_page", plan_id=plan_id, done="drawn"), 303)


@bp.route("/plans/<plan_id>/results", methods=["POST"])
def plan_results(plan_id: str):
    """Record the results chosen on the form, one row per drawn target (as POST .../results)."""
    rows = []
    for gln in request.form.getlist("party_gln"):
        result = request.form.get(f"result_{gln}", "").strip()
        if not result:
            continue
        row = {"party_gln": gln, "result": result,
               "inspected_on": request.form.get(f"inspected_on_{gln}", "").strip()}
        note = request.form.get(f"note_{gln}", "").strip()
        rows.append({**row, "note": note} if note else row)
    data = load_body(_RESULTS, {"results": rows})
    results = [{**r, "inspected_on": r["inspected_on"].isoformat()} for r in data["results"]]
    recorded(sampling_plans.record_results(graph(), plan_id, results, actor(), audit=audit()))
    return redirect(url_for("console.plan_page", plan_id=plan_id, done="results"), 303)
