import { periodCloseScenario } from './period-close.ts';

// The period-close scenario on the generated Glue scripts on PySpark 3.3 + Iceberg 1.0 (what runs on
// AWS): each run costs about a minute, so the ledger is small.
periodCloseScenario('spark', 60);
