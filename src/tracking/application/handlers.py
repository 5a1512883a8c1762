"""Every use case, by name: the one object the entrypoints call.

Adding a use case is a field here and its construction in the composition root; a name
misspelt at either end, or a handler built without one of its ports, is a type error."""

from dataclasses import dataclass

from tracking.application.commands.admit_request import AdmitRequestHandler
from tracking.application.commands.apply_retention import ApplyRetentionHandler
from tracking.application.commands.calculate_metrics import CalculateMetricsHandler
from tracking.application.commands.deactivate_client import DeactivateClientHandler
from tracking.application.commands.ensure_admin import EnsureAdminHandler
from tracking.application.commands.erase_user import EraseUserHandler
from tracking.application.commands.issue_access_token import IssueAccessTokenHandler
from tracking.application.commands.lift_suppression import LiftSuppressionHandler
from tracking.application.commands.record_events import RecordEventsHandler
from tracking.application.commands.register_client import RegisterClientHandler
from tracking.application.commands.rotate_api_key import RotateApiKeyHandler
from tracking.application.commands.store_queued_events import StoreQueuedEventsHandler
from tracking.application.commands.update_client import UpdateClientHandler
from tracking.application.queries.authenticate import AuthenticateHandler
from tracking.application.queries.daily_stats import DailyStatsHandler
from tracking.application.queries.daily_usage import DailyUsageHandler
from tracking.application.queries.export_user import ExportUserHandler
from tracking.application.queries.get_client import GetClientHandler
from tracking.application.queries.list_clients import ListClientsHandler
from tracking.application.queries.list_erasures import ListErasuresHandler
from tracking.application.queries.list_events import ListEventsHandler
from tracking.application.queries.list_metric_windows import ListMetricWindowsHandler
from tracking.application.queries.list_metrics import ListMetricsHandler
from tracking.application.queries.readiness import ReadinessHandler
from tracking.application.queries.stats_series import StatsSeriesHandler
from tracking.application.queries.stream_events import StreamEventsHandler
from tracking.application.queries.top_clients import TopClientsHandler


@dataclass(frozen=True, slots=True)
class Handlers:
    # Commands
    admit_request: AdmitRequestHandler
    record_events: RecordEventsHandler
    import_events: RecordEventsHandler
    store_queued_events: StoreQueuedEventsHandler
    register_client: RegisterClientHandler
    rotate_api_key: RotateApiKeyHandler
    deactivate_client: DeactivateClientHandler
    update_client: UpdateClientHandler
    ensure_admin: EnsureAdminHandler
    issue_access_token: IssueAccessTokenHandler
    calculate_metrics: CalculateMetricsHandler
    erase_user: EraseUserHandler
    lift_suppression: LiftSuppressionHandler
    apply_retention: ApplyRetentionHandler
    # Queries
    authenticate: AuthenticateHandler
    list_events: ListEventsHandler
    stream_events: StreamEventsHandler
    get_client: GetClientHandler
    list_clients: ListClientsHandler
    list_metrics: ListMetricsHandler
    list_metric_windows: ListMetricWindowsHandler
    daily_usage: DailyUsageHandler
    top_clients: TopClientsHandler
    daily_stats: DailyStatsHandler
    stats_series: StatsSeriesHandler
    export_user: ExportUserHandler
    list_erasures: ListErasuresHandler
    readiness: ReadinessHandler
