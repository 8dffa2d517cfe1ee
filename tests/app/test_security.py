"""Security headers, rate limits on failed token checks, request size limits, Cypher only with $parameters."""

import ast
import re
from pathlib import Path

from app import create_app
from tests.factories import auth

REPO = Path(__file__).resolve().parents[2]


def test_every_answer_carries_the_security_headers(client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_repeated_bad_tokens_are_rate_limited(neo4j_uri):
    app = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "RATELIMIT_AUTH_FAILURES": "5/minute",
                      "MIGRATE_ON_START": False})
    client = app.test_client()
    statuses = [client.post("/api/v1/parties", json={}, headers=auth(f"tg_bad_{i}")).status_code for i in range(8)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3
    limited = client.get("/api/v1/parties", headers=auth("tg_bad_again"))
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "too_many_requests"
    assert limited.headers["Retry-After"]
    assert client.get("/healthz").status_code == 200  # the lockout never takes the node out of its balancer
    app.extensions["graph"].close()


def test_a_body_over_the_limit_is_413_with_the_error_shape(neo4j_uri, admin_token):
    app = create_app({"TESTING": True, "NEO4J_URI": neo4j_uri, "MAX_CONTENT_LENGTH": 1000,
                      "MIGRATE_ON_START": False})
    response = app.test_client().post("/api/v1/parties", data=b"{" + b" " * 5000 + b"}",
                                      headers={**auth(admin_token), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    app.extensions["graph"].close()


CYPHER_WORDS = re.compile(r"\b(MATCH|MERGE|CREATE|RETURN|UNWIND|WHERE|SET|DELETE|CALL)\b")
QUERY_METHODS = ("query", "lookup", "run", "execute_query", "run_autocommit", "tx_rows")


def _is_built(node: ast.AST, literals: frozenset[str] = frozenset()) -> bool:
    """An f-string, concatenation, %-formatting or .format()/.join() call: text assembled at run time.

    A `+` of string literals and of literal constants (`literals`: the module's own module-level names assigned only
    literal text, and `module.NAME` for such a name of another graph/ module it imports) is still literal text, fixed
    when the module is imported: a query's shared WHERE clause.
    """
    if isinstance(node, ast.BinOp):
        return not _only_literals(node, literals)
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")


def _only_literals(node: ast.AST, literals: frozenset[str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return node.id in literals
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}" in literals
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
            and _only_literals(node.left, literals) and _only_literals(node.right, literals))


def _module_literals(tree: ast.Module, imported: frozenset[str] = frozenset()) -> frozenset[str]:
    """Module-level names assigned (once, in order) nothing but literal text, earlier such names and `imported`
    (another module's literal constants, as `module.NAME`); `imported` is part of the answer."""
    literals: set[str] = set(imported)
    assigned: dict[str, int] = {}
    for stmt in tree.body:
        targets = [stmt.target] if isinstance(stmt, ast.AnnAssign) else getattr(stmt, "targets", [])
        for target in targets:
            if isinstance(target, ast.Name):
                assigned[target.id] = assigned.get(target.id, 0) + 1
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign | ast.Assign) and stmt.value is not None:
            targets = [stmt.target] if isinstance(stmt, ast.AnnAssign) else stmt.targets
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names and all(assigned[n] == 1 for n in names) and _only_literals(stmt.value, frozenset(literals)):
                literals.update(names)
    # A name rebound anywhere inside a function is not a constant.
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            literals.difference_update(node.names)
    return frozenset(literals)


def _literal_text(node: ast.AST) -> str:
    return " ".join(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _graph_imports(tree: ast.Module) -> dict[str, str]:
    """The graph/ modules a module imports by name (`from graph import bulk`): local name -> module name."""
    return {alias.asname or alias.name: alias.name for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module == "graph" for alias in node.names}


def test_no_cypher_is_built_from_variables():
    """Only literal Cypher reaches the driver: values travel as $parameters, never inside the query text."""
    offenders = []
    paths = sorted((REPO / "graph").rglob("*.py"))
    trees = {path: ast.parse(path.read_text(), str(path)) for path in paths}
    # Each module's own literal constants first; then a module may use another's as `module.NAME` (one level).
    own = {path.stem: _module_literals(tree) for path, tree in trees.items() if path.parent == REPO / "graph"}
    for path in paths:
        tree = trees[path]
        imported = frozenset(f"{local}.{name}" for local, module in _graph_imports(tree).items()
                             for name in own.get(module, ()))
        literals = _module_literals(tree, imported)
        for node in ast.walk(tree):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if name in QUERY_METHODS and any(_is_built(a, literals) for a in node.args[:2]):
                    offenders.append(f"{where}: query text built at run time")
            if _is_built(node, literals) and CYPHER_WORDS.search(_literal_text(node)):
                offenders.append(f"{where}: Cypher assembled from pieces: {ast.unparse(node)[:60]}")
    assert offenders == [], "Cypher built from variables:\n" + "\n".join(offenders)


def test_the_cypher_rule_tells_literal_constants_from_values():
    """Module constants joined at import are literal; a function's argument or a rebound name is not."""
    tree = ast.parse(
        "A = 'WHERE x = $x'\nB: str = 'MATCH (n)' + A\nC = 'MATCH (n)'\nC = C + 'x'\n"
        "def f(v):\n    return 'MATCH (n) WHERE n.k = ' + v\n"
        "def g():\n    return 'MATCH (n)' + B\n"
    )
    literals = _module_literals(tree)
    assert literals == {"A", "B"}
    built = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and _is_built(n, literals)]
    assert [ast.unparse(n) for n in built] == ["C + 'x'", "'MATCH (n) WHERE n.k = ' + v"]
    # another graph module's literal constant, named through its module, is literal too; any other attribute is not
    other = ast.parse("from graph import bulk\nD = 'CALL {' + bulk.NODES + '}'\nE = 'MATCH (n)' + bulk.rows\n")
    assert _graph_imports(other) == {"bulk": "bulk"}
    assert _module_literals(other, frozenset({"bulk.NODES"})) == {"bulk.NODES", "D"}
