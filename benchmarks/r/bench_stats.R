# Timing of R survival for benchmarks/bench_stats.py.
# Usage: Rscript bench_stats.R DATA.csv REPEAT TASKS   (REPEAT 0: up to 5 runs within 2 s)   (TASKS: comma-separated of
#   km_by_group, logrank, cox_breslow, cox_efron)
# Prints one line per task: RESULT task best_elapsed_seconds peak_heap_mb
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$group <- factor(d$group)
repeats <- as.integer(args[2])
tasks <- strsplit(args[3], ",")[[1]]
run <- list(
  km_by_group = function() survfit(Surv(time, status) ~ group, data = d, conf.type = "log-log"),
  logrank = function() survdiff(Surv(time, status) ~ group, data = d),
  cox_breslow = function() coxph(Surv(time, status) ~ x1 + x2 + x3 + x4 + x5, data = d, ties = "breslow"),
  cox_efron = function() coxph(Surv(time, status) ~ x1 + x2 + x3 + x4 + x5, data = d, ties = "efron")
)
for (task in tasks) {
  best <- Inf
  peak <- 0
  runs <- 0
  spent <- 0
  # repeats > 0: exactly that many runs; 0 (auto): up to 5 runs while the total stays under 2 s
  while (runs < (if (repeats > 0) repeats else 5) && (repeats > 0 || spent < 2 || runs == 0)) {
    g0 <- gc(reset = TRUE)
    used0 <- sum(g0[, 2])
    el <- system.time(fit <- run[[task]]())[["elapsed"]]
    g1 <- gc()
    peak <- max(peak, sum(g1[, 6]) - used0)
    best <- min(best, el)
    spent <- spent + el
    runs <- runs + 1
    rm(fit)
  }
  cat(sprintf("RESULT %s %.6f %.3f\n", task, best, peak))
}
