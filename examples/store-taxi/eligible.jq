# The integration process of the store/taxi scenario. Input: the Store's
# customers, one object a line with their receipts embedded. Output: one
# booking for each customer whose receipts add up to $150 or more. The
# Taxi Service sets the date. Run by ti-run inside a compartment; its
# manifest (made by `ti-attest manifest`) names the Store as the only
# sender and the Taxi as the only recipient.
select(([.receipts[].cents] | add // 0) >= 15000)
| {customer: .id, phone, address}
