"""Read a BPMN 2.0 file into plain values: its processes, their flow nodes, flows and lanes, with lines.

Only what the importer needs, read the same whatever prefix a modeler gave the namespace
(bpmn:, bpmn2:, semantic:, model:, none). Vendor attributes (camunda:, flowable:, activiti:,
zeebe:) are kept by their local name, so `candidateGroups` reads the same from Camunda 7 and
Flowable. The file is parsed without entities or network access: a BPMN file is input from
outside. Everything a reader can get wrong is refused here, with its line, before any conversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from backoffice.errors import BpmnFileError, InputRefused
from backoffice.limits import MAX_FILE_BYTES, check_file_size, mib

MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BACKOFFICE = "urn:backoffice:bpmn:1"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
FLOW_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
})
CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
# A BPMN file carries its diagram: every shape's bounds and every flow's waypoints, most of its bytes
# (a model of a few hundred tasks is megabytes from Signavio or ARIS). The bound is the definition
# files' times this: still bounded, without refusing the large models teams most want to bring in.
BPMN_DIAGRAM_FACTOR = 16
BPMN_FILE_BYTES = MAX_FILE_BYTES * BPMN_DIAGRAM_FACTOR
EVENT_DEFINITIONS = ("timer", "message", "error", "terminate", "signal", "escalation", "compensate",
                     "conditional", "link", "cancel")


@dataclass(frozen=True)
class Node:
    """A flow node: a task, an event, a gateway or a sub-process.

    parent: the id of the process or sub-process it sits in. event: the kind of its event
    definition (timer, message, error ...) or None. extensions: vendor attributes by local name.
    """

    id: str
    tag: str
    name: str | None
    line: int
    parent: str
    lane: str | None = None
    event: str | None = None
    event_detail: dict[str, str] = field(default_factory=dict)
    attached_to: str | None = None
    interrupting: bool = True
    default_flow: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)
    called_element: str | None = None
    loop: str | None = None  # multiInstance, sequentialMultiInstance or standard
    for_compensation: bool = False
    triggered_by_event: bool = False
    documentation: str | None = None
    completion_condition: str | None = None  # an ad-hoc sub-process's

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Flow:
    """A sequence flow, with its condition as written and the condition's language, if any."""

    id: str
    source: str
    target: str
    name: str | None
    line: int
    condition: str | None = None
    language: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)


@dataclass
class Process:
    """One process of the file: its nodes and flows (sub-processes' included), lanes and attributes."""

    id: str
    name: str | None
    line: int
    nodes: dict[str, Node]
    flows: dict[str, Flow]
    lanes: dict[str, str]  # lane id -> lane name
    documentation: str | None = None
    participant: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)
    lane_extensions: dict[str, dict[str, str]] = field(default_factory=dict)
    carried_definition: str | None = None  # the backoffice:definition extension, as written by bpmn export
    executable: bool | None = None  # isExecutable: what Camunda, Flowable and Zeebe deploy; None when not said
    # What makes this process unreadable (a flow to nowhere): refused only when this process is imported,
    # so a broken pool beside it does not stop the one asked for.
    problems: list[BpmnFileError] = field(default_factory=list)
    notes: list[tuple[str, str, int, str]] = field(default_factory=list)  # (element, tag, line, message)

    @property
    def label(self) -> str:
        return self.name or self.participant or self.id


@dataclass
class BpmnDocument:
    path: Path
    processes: list[Process]
    messages: dict[str, str]  # message id -> name ("" when it has none)


def read_bpmn(path: Path | str) -> BpmnDocument:
    """Read a BPMN 2.0 file.

    Raises:
        BpmnFileError: the file is missing, not XML, not BPMN 2.0, holds no process, or a flow
            or boundary event refers to an element that does not exist (with its line).
    """
    path = Path(path)
    root = _parse(path)
    if etree.QName(root).namespace != MODEL or etree.QName(root).localname != "definitions":
        raise BpmnFileError(path, f"the root element is <{etree.QName(root).localname}> in namespace "
                            f"{etree.QName(root).namespace or '(none)'}, so this is not a BPMN 2.0 model",
                            line=root.sourceline, expected=f"<definitions> in the namespace {MODEL}")
    _give_ids(root)
    participants = {_ref(p.get("processRef")): _one_line(p.get("name")) for p in root.iter(f"{{{MODEL}}}participant")}
    messages = {m.get("id"): m.get("name") or "" for m in root.iter(f"{{{MODEL}}}message")}
    shapes = _shapes(root)
    processes = [_process(path, element, participants.get(element.get("id")), shapes)
                 for element in root.iterchildren(f"{{{MODEL}}}process")]
    if not processes:
        raise BpmnFileError(path, "the model holds no process", line=root.sourceline,
                            expected="at least one <process> with flow nodes")
    return BpmnDocument(path, processes, messages)


# libxml2 reports a namespace name that is not a URI (IBM Process Designer writes spaces in them) as
# an error, though the XML is well-formed and the name is only an identifier: those alone are let by.
_NAMESPACE_URI_WARNINGS = frozenset({etree.ErrorTypes.WAR_NS_URI, etree.ErrorTypes.WAR_NS_URI_RELATIVE})


def _parse(path: Path) -> etree._Element:
    """Parse the file without entities, DTDs or network, past a size bound; refuse what cannot be read."""
    try:
        check_file_size(path, "the BPMN file", limit=BPMN_FILE_BYTES)
        data = path.read_bytes()
    except InputRefused as exc:
        raise BpmnFileError(path, exc.problem, expected=f"at most {mib(BPMN_FILE_BYTES)} ({BPMN_DIAGRAM_FACTOR} times "
                            "BACKOFFICE_MAX_FILE_BYTES: a BPMN file carries its diagram)") from None
    except OSError as exc:
        raise BpmnFileError(path, f"cannot read the file ({exc.strerror or exc})", expected="a BPMN 2.0 file") \
            from None
    _refuse_entities(path, data)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True)
    try:
        return etree.fromstring(data, parser, base_url=str(path))
    except etree.XMLSyntaxError as exc:
        if parser.error_log and all(e.type in _NAMESPACE_URI_WARNINGS for e in parser.error_log):
            lenient = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                      remove_comments=True, recover=True)
            root = etree.fromstring(data, lenient, base_url=str(path))
            if root is not None and all(e.type in _NAMESPACE_URI_WARNINGS for e in lenient.error_log):
                return root
        line = exc.position[0] if exc.position else None
        raise BpmnFileError(path, f"is not well-formed XML ({exc.msg})", line=line,
                            expected="a BPMN 2.0 XML file") from None
    except ValueError as exc:  # lxml refuses some encodings' declarations on bytes it cannot decode
        raise BpmnFileError(path, f"cannot be decoded ({exc})", expected="a BPMN 2.0 XML file in UTF-8, "
                            "UTF-16 or the encoding it declares") from None


def _refuse_entities(path: Path, data: bytes) -> None:
    """Refuse entity declarations before parsing: no BPMN tool writes them, and they are how an
    XML file reads local files (XXE) or blows up when expanded (billion laughs)."""
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        at = data.find("<!ENTITY".encode(encoding))
        if at >= 0:
            line = data[:at].decode(encoding, errors="replace").count("\n") + 1
            raise BpmnFileError(path, "declares an XML entity (<!ENTITY>), which a BPMN model never needs and "
                                "which can read local files or expand without bound; refused", line=line,
                                expected="a BPMN 2.0 XML file without a DOCTYPE")


_IDENTIFIED = FLOW_NODES | {"process", "sequenceFlow", "lane"}


def _give_ids(root: etree._Element) -> None:
    """Name the elements written without an id (the schema lets it be left out) by their tag and line."""
    taken = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    for element in root.iter():
        if _is_model(element) and _local(element) in _IDENTIFIED and not element.get("id"):
            base = f"{_local(element)}-line-{element.sourceline}"
            candidate, number = base, 2
            while candidate in taken:
                candidate, number = f"{base}-{number}", number + 1
            element.set("id", candidate)
            taken.add(candidate)


_PREFIXED = re.compile(r"[A-Za-z_][\w.\-]*:([A-Za-z_][\w.\-]*)")


def _ref(text: str | None) -> str | None:
    """Return the id a reference names: attachedToRef, processRef and messageRef are QNames, and some
    tools (IBM Process Designer) write them, and flowNodeRef, with the prefix of the target namespace."""
    if text is None:
        return None
    text = text.strip()
    prefixed = _PREFIXED.fullmatch(text)
    return prefixed.group(1) if prefixed else text


def _called(element: etree._Element) -> str | None:
    """calledElement is a QName: drop a prefix the file declares (Process:id), keep an engine's key as written."""
    text = element.get("calledElement")
    prefix, _, rest = (text or "").partition(":")
    return rest if rest and prefix in element.nsmap and _PREFIXED.fullmatch(text.strip()) else text


def _one_line(name: str | None) -> str | None:
    """A name as one line: modelers wrap long names in the diagram, which a title or a listing cannot hold."""
    return " ".join((name or "").split()) or None


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _is_model(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).namespace == MODEL


def _extensions(element: etree._Element) -> dict[str, str]:
    """Vendor attributes by local name (camunda:candidateGroups -> candidateGroups), and zeebe task types."""
    found = {etree.QName(key).localname: value for key, value in element.attrib.items()
             if key.startswith("{") and etree.QName(key).namespace not in (MODEL,)
             and not key.startswith("{http://www.w3.org/")}
    for child in element.iterchildren():
        if _local(child) == "extensionElements":
            for item in child.iter():
                if _local(item) == "taskDefinition" and item.get("type"):
                    found.setdefault("topic", item.get("type"))
                elif _local(item) == "connectorId" and item.text:
                    found.setdefault("connectorId", item.text.strip())
                elif _local(item) == "calledElement" and item.get("processId"):
                    found.setdefault("calledElement", _feel_names(item.get("processId")))
                elif _local(item) == "assignmentDefinition":  # Camunda 8 user tasks
                    for key in ("candidateGroups", "assignee", "candidateUsers"):
                        if item.get(key):
                            found.setdefault(key, _feel_names(item.get(key)))
                elif _local(item) == "failedJobRetryTimeCycle" and item.text:
                    found.setdefault("failedJobRetryTimeCycle", item.text.strip())
    return found


_FEEL_STRINGS = re.compile(r'\s*(?:\[\s*)?("[^"]*"(?:\s*,\s*"[^"]*")*)?(?:\s*\])?\s*')


def _feel_names(value: str) -> str:
    """Return Camunda 8's names as a comma list: `sales, accounting` as written, a FEEL literal
    (`=["sales", "accounting"]`, `="sales"`) read; any other FEEL (`=approverGroups`, known only at
    run time) is kept with its `=` for the importer to list."""
    if not value.startswith("="):
        return value
    literal = _FEEL_STRINGS.fullmatch(value[1:])
    if literal and literal.group(1):
        return ", ".join(re.findall(r'"([^"]*)"', literal.group(1)))
    return value


def _text_of(element: etree._Element, local: str) -> str | None:
    for child in element.iterchildren():
        if _is_model(child) and _local(child) == local:
            return (child.text or "").strip() or None
    return None


def _shapes(root: etree._Element) -> dict[str, tuple[float, float, float, float]]:
    """Return the diagram's bounds (x, y, width, height) by the id of the element they draw."""
    found: dict[str, tuple[float, float, float, float]] = {}
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        bounds = next((c for c in shape.iterchildren() if _local(c) == "Bounds"), None)
        try:
            found[shape.get("bpmnElement")] = tuple(float(bounds.get(k)) for k in ("x", "y", "width", "height"))
        except (AttributeError, TypeError, ValueError):
            continue
    return found


def _lanes_of_nodes(element: etree._Element, lane_of: dict[str, str], lanes: dict[str, str],
                    shapes: dict[str, tuple[float, float, float, float]]) -> dict[str, str]:
    """Return each flow node's lane: by its flowNodeRef, else by where the diagram draws it.

    Some exporters write a reference without the prefix they gave the ids (Start1 for
    Approvals.Start1), and some write no references at all, leaving the diagram to say who
    does what: both are read as their author meant.
    """
    ids = [e.get("id") for e in element.iter() if isinstance(e.tag, str) and _local(e) in FLOW_NODES and e.get("id")]
    resolved: dict[str, str] = {}
    for ref, lane in lane_of.items():
        if ref in ids:
            resolved[ref] = lane
        else:
            matches = [i for i in ids if i.endswith(f".{ref}")]
            if len(matches) == 1:
                resolved[matches[0]] = lane

    def drawn(name: str) -> tuple[float, float, float, float] | None:
        return shapes.get(name) or shapes.get(name.rsplit(".", 1)[-1])
    bands = [(lane, drawn(lane)) for lane in lanes]
    bands = sorted(((lane, b) for lane, b in bands if b), key=lambda item: item[1][2] * item[1][3])
    for node_id in ids:
        box = drawn(node_id)
        if node_id in resolved or box is None:
            continue
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        inside = next((lane for lane, (x, y, w, h) in bands if x <= cx <= x + w and y <= cy <= y + h), None)
        if inside:
            resolved[node_id] = inside
    return resolved


def _process(path: Path, element: etree._Element, participant: str | None,
             shapes: dict[str, tuple[float, float, float, float]]) -> Process:
    nodes: dict[str, Node] = {}
    flows: dict[str, Flow] = {}
    lanes: dict[str, str] = {}
    lane_of: dict[str, str] = {}
    lane_extensions: dict[str, dict[str, str]] = {}
    for lane in element.iter(f"{{{MODEL}}}lane"):
        lanes[lane.get("id")] = " ".join((lane.get("name") or lane.get("id") or "").split())
        lane_extensions[lane.get("id")] = _extensions(lane)
        for ref in lane.iterchildren(f"{{{MODEL}}}flowNodeRef"):
            lane_of[_ref(ref.text) or ""] = lane.get("id")  # inner lanes come later and win
    lane_of = _lanes_of_nodes(element, lane_of, lanes, shapes)
    _collect(element, element.get("id"), nodes, flows, lane_of)
    process_id = element.get("id")
    problems: list[BpmnFileError] = []
    notes: list[tuple[str, str, int, str]] = []
    for flow in flows.values():
        for end, ref in (("source", flow.source), ("target", flow.target)):
            if ref not in nodes:
                problems.append(BpmnFileError(
                    path, f"sequence flow {flow.id!r} has {end}Ref {ref!r}, which is no flow node of process "
                    f"{process_id!r}", line=flow.line, expected="the id of a task, event or gateway of the same "
                    "process", element=flow.id))
    for node in nodes.values():
        if node.tag == "boundaryEvent" and node.attached_to not in nodes:
            problems.append(BpmnFileError(
                path, f"boundary event {node.id!r} is attached to {node.attached_to!r}, which is no activity of "
                f"process {process_id!r}", line=node.line, expected="attachedToRef naming a task or sub-process",
                element=node.id))
        if node.default_flow and node.default_flow not in flows:
            # Only a marker on a flow that is not there: the gateway's other flows still say where to go.
            notes.append((node.id, node.tag, node.line, f"names default flow {node.default_flow!r}, which does not "
                          "exist; read as having no default flow"))
    return Process(id=process_id, name=_one_line(element.get("name")), line=element.sourceline, nodes=nodes,
                   flows=flows,
                   lanes=lanes, documentation=_text_of(element, "documentation"), participant=participant,
                   extensions=_extensions(element), lane_extensions=lane_extensions,
                   carried_definition=_carried(element), problems=problems, notes=notes,
                   executable={"true": True, "false": False}.get((element.get("isExecutable") or "").strip().lower()))


def _carried(element: etree._Element) -> str | None:
    for child in element.iterchildren():
        if _local(child) == "extensionElements":
            for item in child.iterchildren():
                if _local(item) == "definition" and etree.QName(item).namespace == BACKOFFICE:
                    return item.text
    return None


def _collect(container: etree._Element, parent: str, nodes: dict[str, Node], flows: dict[str, Flow],
             lane_of: dict[str, str]) -> None:
    for child in container.iterchildren():
        if not _is_model(child):
            continue
        tag = _local(child)
        if tag == "sequenceFlow":
            condition = next((c for c in child.iterchildren() if _local(c) == "conditionExpression"), None)
            flows[child.get("id")] = Flow(
                id=child.get("id"), source=_ref(child.get("sourceRef")), target=_ref(child.get("targetRef")),
                name=" ".join((child.get("name") or "").split()) or None, line=child.sourceline,
                condition=(condition.text or "").strip() or None if condition is not None else None,
                language=condition.get("language") if condition is not None else None,
                extensions=_extensions(child))
        elif tag in FLOW_NODES:
            nodes[child.get("id")] = _node(child, tag, parent, lane_of)
            if tag in CONTAINERS:
                _collect(child, child.get("id"), nodes, flows, lane_of)


def _node(element: etree._Element, tag: str, parent: str, lane_of: dict[str, str]) -> Node:
    event, detail = None, {}
    for child in element.iterchildren():
        local = _local(child)
        if local.endswith("EventDefinition") and local[:-len("EventDefinition")] in EVENT_DEFINITIONS:
            event = local[:-len("EventDefinition")]
            detail = {k: _ref(v) if k.endswith("Ref") else v for k, v in child.attrib.items() if not k.startswith("{")}
            for part in child.iterchildren():
                if _local(part) in ("timeDuration", "timeCycle", "timeDate"):
                    detail[_local(part)] = (part.text or "").strip()
    loop = None
    for child in element.iterchildren():
        if _local(child) == "multiInstanceLoopCharacteristics":
            loop = "sequentialMultiInstance" if child.get("isSequential") == "true" else "multiInstance"
        elif _local(child) == "standardLoopCharacteristics":
            loop = "standard"
    extensions = _extensions(element)
    return Node(
        id=element.get("id"), tag=tag, name=" ".join((element.get("name") or "").split()) or None,
        line=element.sourceline, parent=parent, lane=lane_of.get(element.get("id")), event=event,
        event_detail=detail, attached_to=_ref(element.get("attachedToRef")),
        interrupting="false" not in (element.get("cancelActivity"), element.get("isInterrupting")),
        default_flow=_ref(element.get("default")),
        extensions=extensions, called_element=_called(element) or extensions.get("calledElement"),
        loop=loop, for_compensation=element.get("isForCompensation") == "true",
        triggered_by_event=element.get("triggeredByEvent") == "true", documentation=_text_of(element, "documentation"),
        completion_condition=_text_of(element, "completionCondition"))
