package matcher

// calibrationTable holds, per situation, the prior confidence, whether it is
// a policy (not measured) and whether it teaches payer facts — edited by
// hand — and the counts measured on the calibration seeds with the
// confidence they give (see calibration.go) — rewritten by
//
//	go test ./matcher -run TestCalibrate -calibrate -update
//
// Measured on: internal/gen seeds 100–119 (classic profile) and 200–219 (remittance profile) × 4000 transactions.
// A new situation is added by hand with its prior and N, Right 0.
var calibrationTable = map[string]calibration{
	"document/digits":                 {Prior: 0.93, N: 2414, Right: 2414, Confidence: 0.99}, // observed 1.0000
	"document/digits_other_payer":     {Prior: 0.87, N: 0, Right: 0, Confidence: 0.87},
	"document/exact":                  {Prior: 0.97, Learns: true, N: 31464, Right: 31464, Confidence: 0.99}, // observed 1.0000
	"document/exact_multi":            {Prior: 0.96, Learns: true, N: 7171, Right: 7171, Confidence: 0.99},   // observed 1.0000
	"document/fx_exact":               {Prior: 0.95, N: 810, Right: 810, Confidence: 0.99},                   // observed 1.0000
	"document/fx_tolerance":           {Prior: 0.93, N: 0, Right: 0, Confidence: 0.93},
	"document/other_payer":            {Prior: 0.91, N: 0, Right: 0, Confidence: 0.91},
	"document/over":                   {Prior: 0.92, N: 45, Right: 45, Confidence: 0.99},     // observed 1.0000
	"document/over_other_open":        {Prior: 0.93, N: 2380, Right: 2380, Confidence: 0.99}, // observed 1.0000
	"document/partial":                {Prior: 0.92, N: 0, Right: 0, Confidence: 0.92},
	"document/subset":                 {Prior: 0.94, N: 0, Right: 0, Confidence: 0.94},
	"document/unnamed_rest":           {Prior: 0.92, N: 1851, Right: 1851, Confidence: 0.99},             // observed 1.0000
	"document/unnamed_rest_oldest":    {Prior: 0.91, Policy: true, N: 119, Right: 119, Confidence: 0.91}, // observed 1.0000
	"document/writeoff":               {Prior: 0.94, N: 2792, Right: 2792, Confidence: 0.99},             // observed 1.0000
	"document_cut/other_payer":        {Prior: 0.88, N: 0, Right: 0, Confidence: 0.88},
	"document_cut/single":             {Prior: 0.93, N: 658, Right: 658, Confidence: 0.99}, // observed 1.0000
	"document_typo/other_payer":       {Prior: 0.87, N: 0, Right: 0, Confidence: 0.87},
	"document_typo/single":            {Prior: 0.92, N: 1848, Right: 1848, Confidence: 0.99}, // observed 1.0000
	"duplicate/on_account":            {Prior: 0.90, Policy: true, N: 0, Right: 0, Confidence: 0.90},
	"payer/text_names_other":          {Prior: 0.85, N: 0, Right: 0, Confidence: 0.85},
	"payer_amount/iban":               {Prior: 0.95, N: 11858, Right: 11858, Confidence: 0.99},             // observed 1.0000
	"payer_amount/iban_learned":       {Prior: 0.94, N: 1605, Right: 1605, Confidence: 0.99},               // observed 1.0000
	"payer_amount/name_equal":         {Prior: 0.94, N: 5109, Right: 5109, Confidence: 0.99},               // observed 1.0000
	"payer_amount/name_similar":       {Prior: 0.92, N: 1382, Right: 1382, Confidence: 0.99},               // observed 1.0000
	"payer_combination/oldest":        {Prior: 0.90, Policy: true, N: 1, Right: 1, Confidence: 0.90},       // observed 1.0000
	"payer_combination/oldest_equal":  {Prior: 0.91, Policy: true, N: 312, Right: 312, Confidence: 0.91},   // observed 1.0000
	"payer_combination/only":          {Prior: 0.93, N: 3888, Right: 3888, Confidence: 0.99},               // observed 1.0000
	"payer_combination/text":          {Prior: 0.92, N: 305, Right: 305, Confidence: 0.99},                 // observed 1.0000
	"payer_same_amount/oldest":        {Prior: 0.91, Policy: true, N: 2069, Right: 2069, Confidence: 0.91}, // observed 1.0000
	"payer_same_amount/typo":          {Prior: 0.92, N: 0, Right: 0, Confidence: 0.92},
	"payer_tolerance/name_similar":    {Prior: 0.89, N: 0, Right: 0, Confidence: 0.89},
	"payer_tolerance/oldest":          {Prior: 0.91, Policy: true, N: 124, Right: 124, Confidence: 0.91},     // observed 1.0000
	"payer_tolerance/single":          {Prior: 0.92, N: 1255, Right: 1255, Confidence: 0.99},                 // observed 1.0000
	"reference/exact":                 {Prior: 0.99, Learns: true, N: 36462, Right: 36462, Confidence: 0.99}, // observed 1.0000
	"reference/fx_exact":              {Prior: 0.97, N: 570, Right: 570, Confidence: 0.99},                   // observed 1.0000
	"reference/fx_partial":            {Prior: 0.94, N: 0, Right: 0, Confidence: 0.94},
	"reference/fx_tolerance":          {Prior: 0.95, N: 0, Right: 0, Confidence: 0.95},
	"reference/other_payer":           {Prior: 0.93, N: 1474, Right: 1474, Confidence: 0.99},               // observed 1.0000
	"reference/over":                  {Prior: 0.96, Learns: true, N: 2819, Right: 2819, Confidence: 0.99}, // observed 1.0000
	"reference/partial":               {Prior: 0.96, Learns: true, N: 4173, Right: 4173, Confidence: 0.99}, // observed 1.0000
	"reference/with_named":            {Prior: 0.97, Learns: true, N: 0, Right: 0, Confidence: 0.97},
	"reference/writeoff":              {Prior: 0.97, Learns: true, N: 1463, Right: 1463, Confidence: 0.99},   // observed 1.0000
	"remittance/exact":                {Prior: 0.97, Learns: true, N: 13738, Right: 13738, Confidence: 0.99}, // observed 1.0000
	"remittance/other_payer":          {Prior: 0.91, N: 0, Right: 0, Confidence: 0.91},
	"remittance/over":                 {Prior: 0.95, N: 0, Right: 0, Confidence: 0.95},
	"remittance/writeoff":             {Prior: 0.95, N: 0, Right: 0, Confidence: 0.95},
	"suggested/ambiguous_combination": {Prior: 0.50, N: 0, Right: 0, Confidence: 0.50},
	"suggested/ambiguous_customers":   {Prior: 0.50, N: 589, Right: 291, Confidence: 0.49}, // observed 0.4941
	"suggested/amount_mismatch":       {Prior: 0.35, N: 19, Right: 13, Confidence: 0.57},   // observed 0.6842
	"suggested/currency_mismatch":     {Prior: 0.50, N: 0, Right: 0, Confidence: 0.50},
	"suggested/item_settled":          {Prior: 0.50, N: 1155, Right: 2, Confidence: 0.01}, // observed 0.0017
	"suggested/low_confidence":        {Prior: 0.50, N: 0, Right: 0, Confidence: 0.50},
	"suggested/other":                 {Prior: 0.30, N: 0, Right: 0, Confidence: 0.30},
	"suggested/same_amount":           {Prior: 0.60, N: 0, Right: 0, Confidence: 0.60},
	"suggested/unknown_payer":         {Prior: 0.30, N: 2499, Right: 56, Confidence: 0.02}, // observed 0.0224
}
