//! What travels between the services: the services and operations of the
//! topology, the payment request every hop carries, and the reply.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The platform services (names as they appear in digests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Service {
    Cashier,
    Trade,
    Payment,
    Risk,
    Marketing,
    PaymentEngine,
    BankGateway,
    Accounting,
    Clearing,
}

impl Service {
    pub const ALL: [Service; 9] = [
        Self::Cashier,
        Self::Trade,
        Self::Payment,
        Self::Risk,
        Self::Marketing,
        Self::PaymentEngine,
        Self::BankGateway,
        Self::Accounting,
        Self::Clearing,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Self::Cashier => "cashier",
            Self::Trade => "trade",
            Self::Payment => "payment",
            Self::Risk => "risk",
            Self::Marketing => "marketing",
            Self::PaymentEngine => "payment-engine",
            Self::BankGateway => "bank-gateway",
            Self::Accounting => "accounting",
            Self::Clearing => "clearing",
        }
    }
    pub fn from_name(s: &str) -> Option<Service> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// Operations (interface.method), each served by one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum Op {
    CashierPay,
    TradeCreateOrder,
    PaymentPay,
    RiskCheck,
    RiskAsyncCheck,
    MarketingUseCoupon,
    EnginePay,
    GatewayCharge,
    /// Reverses a charge the platform could not book (the engine's compensation).
    GatewayReverse,
    AccountingPost,
    ClearingSubmit,
}

impl Op {
    pub(crate) const ALL: [Op; 11] = [
        Self::CashierPay,
        Self::TradeCreateOrder,
        Self::PaymentPay,
        Self::RiskCheck,
        Self::RiskAsyncCheck,
        Self::MarketingUseCoupon,
        Self::EnginePay,
        Self::GatewayCharge,
        Self::GatewayReverse,
        Self::AccountingPost,
        Self::ClearingSubmit,
    ];
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::CashierPay => "CashierFacade.pay",
            Self::TradeCreateOrder => "TradeService.createOrder",
            Self::PaymentPay => "PaymentService.pay",
            Self::RiskCheck => "RiskService.check",
            Self::RiskAsyncCheck => "RiskService.asyncCheck",
            Self::MarketingUseCoupon => "CouponService.use",
            Self::EnginePay => "PayEngine.pay",
            Self::GatewayCharge => "BankGateway.charge",
            Self::GatewayReverse => "BankGateway.reverse",
            Self::AccountingPost => "Ledger.post",
            Self::ClearingSubmit => "ClearingService.submit",
        }
    }
    pub(crate) fn from_name(s: &str) -> Option<Op> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }
    pub(crate) fn service(self) -> Service {
        match self {
            Self::CashierPay => Service::Cashier,
            Self::TradeCreateOrder => Service::Trade,
            Self::PaymentPay => Service::Payment,
            Self::RiskCheck | Self::RiskAsyncCheck => Service::Risk,
            Self::MarketingUseCoupon => Service::Marketing,
            Self::EnginePay => Service::PaymentEngine,
            Self::GatewayCharge | Self::GatewayReverse => Service::BankGateway,
            Self::AccountingPost => Service::Accounting,
            Self::ClearingSubmit => Service::Clearing,
        }
    }
}

/// Business type of an order: trade routes each to its plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Biz {
    /// Buying goods from a merchant (instant to the merchant).
    Goods,
    /// Paying a bill or a utility (merchant is the biller).
    Bill,
    /// Topping up a mobile phone (merchant is the telco).
    Topup,
}

/// The pay tool the payment engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayTool {
    BankCard,
    Balance,
    Credit,
}

/// The payment as every hop sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PayRequest {
    pub payment_id: u64,
    pub user: u32,
    pub merchant: u32,
    pub amount_cents: i64,
    pub biz: Biz,
    pub tool: PayTool,
    /// The payer uses a coupon (marketing is called).
    pub coupon: bool,
    /// Bank chosen by the gateway (filled in on the way back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
}

/// A call's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Reply {
    /// Business result code: `SUCCESS` or why not.
    pub code: Cow<'static, str>,
    /// Error class when it failed for a technical reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Cow<'static, str>>,
    /// Simulated time spent in this call's subtree (added to measured durations).
    #[serde(default)]
    pub virtual_us: u64,
    /// The bank that served a card payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
}

pub(crate) const SUCCESS: &str = "SUCCESS";

impl Reply {
    pub(crate) fn ok() -> Reply {
        Reply {
            code: Cow::Borrowed(SUCCESS),
            error: None,
            virtual_us: 0,
            bank: None,
        }
    }
    pub(crate) fn fail(code: impl Into<Cow<'static, str>>, error: Option<&'static str>) -> Reply {
        Reply {
            code: code.into(),
            error: error.map(Cow::Borrowed),
            virtual_us: 0,
            bank: None,
        }
    }
    /// A call the guard refused, with its business code and error class.
    pub(crate) fn refused(code: String, error: String) -> Reply {
        Reply {
            code: Cow::Owned(code),
            error: Some(Cow::Owned(error)),
            virtual_us: 0,
            bank: None,
        }
    }
    pub(crate) fn is_ok(&self) -> bool {
        self.code == SUCCESS
    }
}

/// Merchant key as written in digests: `m-<id>`, with id 0 the flash-sale merchant `m-hot`.
pub(crate) fn merchant_key(id: u32) -> String {
    if id == 0 {
        "m-hot".to_string()
    } else {
        format!("m-{id}")
    }
}

/// The merchant id of a key written by [`merchant_key`].
pub(crate) fn merchant_id(key: &str) -> Option<u32> {
    if key == "m-hot" {
        return Some(0);
    }
    key.strip_prefix("m-")?.parse().ok()
}

/// User key as written in digests.
pub(crate) fn user_key(id: u32) -> String {
    format!("u-{id}")
}
