# A process that integrates two sources: customers' contact details from
# one resource (the input stream, read with `inputs`) and their receipts
# from another (--slurpfile receipts). Same rule as eligible.jq: $150 or
# more ⇒ one booking. Run with -n, so the totals are computed once.
(reduce $receipts[] as $r ({}; .[$r.customer | tostring] += $r.cents))
  as $total
| inputs
| select(($total[.id | tostring] // 0) >= 15000)
| {customer: .id, phone, address}
