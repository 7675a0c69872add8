"""What the people of a back office read about their work, below every interface that shows it.

Each module reads one view for one viewer (`Viewer`, who they are by the directory): my work
and its saved filters, the approvals inbox, the exception queues, a workflow's board, and the
administrator's overview. Searches run in SQL with the viewer's visibility in the query (see
`store.work_search`). Every act these views offer is the engine's own operation (claim, vote,
move, resolve, approve a change): nothing here decides what a person may do.
"""

from backoffice.readmodels.viewer import viewer_of

__all__ = ["viewer_of"]
